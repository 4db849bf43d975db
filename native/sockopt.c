/*
 * setsockopt/getsockopt on an existing socket, by file descriptor, for the netlink socket that npm
 * `netlink` opened and does not let us configure beyond SO_RCVBUF/SO_SNDBUF/membership
 * (SO_SNDBUFFORCE, SO_RCVBUFFORCE, NETLINK_EXT_ACK, NETLINK_CAP_ACK, NETLINK_NO_ENOBUFS).
 * Plain C over node_api.h so it needs no npm dependency. Failures are returned as a positive errno,
 * never thrown, so that src/netlink/sockopt.ts names them with Node's errno table.
 */
#include <errno.h>
#include <node_api.h>
#include <sys/socket.h>

#define CHECK(env, call)                                                                     \
  do {                                                                                       \
    if ((call) != napi_ok) {                                                                 \
      napi_throw_type_error((env), "NETLINK_NATIVE_ARGS", "sockopt: expected integer arguments"); \
      return NULL;                                                                           \
    }                                                                                        \
  } while (0)

static napi_value int_args(napi_env env, napi_callback_info info, size_t want, int32_t *out) {
  napi_value argv[4];
  size_t argc = 4;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != want) {
    napi_throw_type_error(env, "NETLINK_NATIVE_ARGS", "sockopt: wrong number of arguments");
    return NULL;
  }
  for (size_t i = 0; i < want; i++) CHECK(env, napi_get_value_int32(env, argv[i], &out[i]));
  napi_value ok;
  CHECK(env, napi_get_boolean(env, 1, &ok));
  return ok;
}

/* setsockopt(fd, level, name, int value) -> 0 or errno */
static napi_value set_int(napi_env env, napi_callback_info info) {
  int32_t a[4];
  if (!int_args(env, info, 4, a)) return NULL;
  int value = a[3];
  int err = setsockopt(a[0], a[1], a[2], &value, sizeof(value)) == 0 ? 0 : errno;
  napi_value result;
  CHECK(env, napi_create_int32(env, err, &result));
  return result;
}

/* getsockopt(fd, level, name) -> [errno, int value] */
static napi_value get_int(napi_env env, napi_callback_info info) {
  int32_t a[3];
  if (!int_args(env, info, 3, a)) return NULL;
  int value = 0;
  socklen_t len = sizeof(value);
  int err = getsockopt(a[0], a[1], a[2], &value, &len) == 0 ? 0 : errno;
  napi_value result, e, v;
  CHECK(env, napi_create_array_with_length(env, 2, &result));
  CHECK(env, napi_create_int32(env, err, &e));
  CHECK(env, napi_create_int32(env, value, &v));
  CHECK(env, napi_set_element(env, result, 0, e));
  CHECK(env, napi_set_element(env, result, 1, v));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"setsockoptInt", NULL, set_int, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getsockoptInt", NULL, get_int, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
