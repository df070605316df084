// cpp-httplib candidate. Its model is blocking I/O with one pool thread per *connection* for the
// connection's whole keep-alive life, so a pool of 2 would serve only 2 of wrk's connections: the
// idiomatic equivalent is a pool as large as the connection count (64), and keep-alive without the
// default 5-requests-per-connection cap.
#include <httplib.h>

#include <atomic>

#include "common.h"

std::atomic<unsigned> g_sink{0};

int main(int argc, char** argv) {
  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(64); };
  server.set_keep_alive_max_count(1 << 30);
  server.set_tcp_nodelay(true);  // off by default; without it Nagle adds ~40 ms per answer
  server.Post("/score", [](const httplib::Request& request, httplib::Response& response) {
    g_sink.fetch_add(http_choice::Checksum(request.body), std::memory_order_relaxed);
    response.set_content(http_choice::kAnswer.data(), http_choice::kAnswer.size(),
                         "application/json");
  });
  server.listen("127.0.0.1", http_choice::PortFromArgs(argc, argv));
}
