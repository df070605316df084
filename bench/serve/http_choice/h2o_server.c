/* libh2o (evloop) candidate: 2 threads, each its own event loop on a SO_REUSEPORT listener
 * (h2o's idiomatic multi-threading: one loop per thread, the kernel spreads connections). */
#define H2O_USE_LIBUV 0
#include <h2o.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char kAnswer[] = "{\"result\":[0.4213577509],\"model\":\"ridge\",\"version\":\"v1\"}";
static h2o_globalconf_t config;
static int port;
static unsigned sink;

static int OnScore(h2o_handler_t *self, h2o_req_t *req) {
  (void)self;
  if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) return -1;
  unsigned sum = 0;
  for (size_t i = 0; i < req->entity.len; ++i) sum = sum * 31 + (unsigned char)req->entity.base[i];
  __atomic_fetch_add(&sink, sum, __ATOMIC_RELAXED);
  req->res.status = 200;
  req->res.reason = "OK";
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                 H2O_STRLIT("application/json"));
  req->res.content_length = sizeof(kAnswer) - 1;
  h2o_send_inline(req, kAnswer, sizeof(kAnswer) - 1);
  return 0;
}

typedef struct {
  h2o_context_t ctx;
  h2o_accept_ctx_t accept_ctx;
} Worker;

static void OnAccept(h2o_socket_t *listener, const char *err) {
  if (err != NULL) return;
  Worker *worker = listener->data;
  h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
  if (sock != NULL) h2o_accept(&worker->accept_ctx, sock);
}

static void *RunWorker(void *arg) {
  (void)arg;
  Worker *worker = calloc(1, sizeof(Worker));
  h2o_context_init(&worker->ctx, h2o_evloop_create(), &config);
  worker->accept_ctx.ctx = &worker->ctx;
  worker->accept_ctx.hosts = config.hosts;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(0x7f000001);
  addr.sin_port = htons((uint16_t)port);
  if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, SOMAXCONN) != 0) exit(1);
  h2o_socket_t *listener = h2o_evloop_socket_create(worker->ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
  listener->data = worker;
  h2o_socket_read_start(listener, OnAccept);
  while (h2o_evloop_run(worker->ctx.loop, INT32_MAX) == 0) {
  }
  return NULL;
}

int main(int argc, char **argv) {
  port = argc > 1 ? atoi(argv[1]) : 8080;
  h2o_config_init(&config);
  h2o_hostconf_t *host = h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
  h2o_pathconf_t *path = h2o_config_register_path(host, "/score", 0);
  h2o_handler_t *handler = h2o_create_handler(path, sizeof(*handler));
  handler->on_req = OnScore;
  pthread_t second;
  pthread_create(&second, NULL, RunWorker, NULL);
  RunWorker(NULL);
  pthread_join(second, NULL);
  return 0;
}
