# Finds every library from Debian's packages through pkg-config, and stops with a
# message that names the package to install when one is missing.
find_package(PkgConfig QUIET)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install -y pkg-config (or run scripts/setup)")
endif()

function(chat_require_module target module debian_package)
  pkg_check_modules(${target} QUIET IMPORTED_TARGET GLOBAL ${module})
  if(NOT ${target}_FOUND)
    message(FATAL_ERROR
      "${module} not found: apt-get install -y ${debian_package} (or run scripts/setup)")
  endif()
endfunction()

chat_require_module(LIBUV libuv libuv1-dev)
chat_require_module(LWS libwebsockets libwebsockets-dev)
chat_require_module(HIREDIS hiredis libhiredis-dev)
chat_require_module(RAPIDJSON RapidJSON rapidjson-dev)
chat_require_module(CLI11 CLI11 libcli11-dev)
chat_require_module(LIBCRYPTO libcrypto libssl-dev)
chat_require_module(LIBSSL libssl libssl-dev)
chat_require_module(LIBJWT libjwt libjwt-dev)
chat_require_module(LIBCURL libcurl libcurl4-openssl-dev)

# lws loads its libuv support as a plugin at run time; without it a foreign
# libuv loop cannot be used, so fail at configure time rather than at start.
find_file(LWS_EVLIB_UV NAMES libwebsockets-evlib_uv.so
  PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE} /usr/lib
  PATH_SUFFIXES libwebsockets-evlib-plugins libwebsockets)
if(NOT LWS_EVLIB_UV)
  message(FATAL_ERROR
    "libwebsockets' libuv event-lib plugin not found: apt-get install -y libwebsockets-evlib-uv (or run scripts/setup)")
endif()

if(CHAT_TESTS)
  find_package(GTest QUIET)
  if(NOT GTest_FOUND)
    message(FATAL_ERROR "GoogleTest not found: apt-get install -y libgtest-dev (or run scripts/setup)")
  endif()
endif()
