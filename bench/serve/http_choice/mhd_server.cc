// libmicrohttpd candidate: internal epoll with a pool of 2 threads.
#include <microhttpd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <string>
#include <unistd.h>

#include "common.h"

std::atomic<unsigned> g_sink{0};

static MHD_Result OnRequest(void*, MHD_Connection* connection, const char* url, const char* method,
                            const char*, const char* upload_data, size_t* upload_size,
                            void** state) {
  auto* body = static_cast<std::string*>(*state);
  if (body == nullptr) {  // first call: headers only
    *state = new std::string;
    return MHD_YES;
  }
  if (*upload_size != 0) {
    body->append(upload_data, *upload_size);
    *upload_size = 0;
    return MHD_YES;
  }
  MHD_Response* response;
  unsigned status;
  if (std::strcmp(method, "POST") == 0 && std::strcmp(url, "/score") == 0) {
    g_sink.fetch_add(http_choice::Checksum(*body), std::memory_order_relaxed);
    response = MHD_create_response_from_buffer(http_choice::kAnswer.size(),
                                               const_cast<char*>(http_choice::kAnswer.data()),
                                               MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(response, "Content-Type", "application/json");
    status = MHD_HTTP_OK;
  } else {
    response = MHD_create_response_from_buffer(0, nullptr, MHD_RESPMEM_PERSISTENT);
    status = MHD_HTTP_NOT_FOUND;
  }
  MHD_Result result = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return result;
}

static void OnCompleted(void*, MHD_Connection*, void** state, MHD_RequestTerminationCode) {
  delete static_cast<std::string*>(*state);
  *state = nullptr;
}

int main(int argc, char** argv) {
  auto port = static_cast<uint16_t>(http_choice::PortFromArgs(argc, argv));
  MHD_Daemon* daemon = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, port, nullptr, nullptr, &OnRequest,
      nullptr, MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_NOTIFY_COMPLETED, &OnCompleted, nullptr,
      MHD_OPTION_CONNECTION_LIMIT, 4096u, MHD_OPTION_END);
  if (daemon == nullptr) return 1;
  pause();
  MHD_stop_daemon(daemon);
}
