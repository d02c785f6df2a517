# Warnings on our own targets; third-party headers come in as SYSTEM through
# the pkg-config imported targets. They are errors only with CHAT_WERROR, which
# the test build (scripts/build test, and so CI) turns on: a user's release
# build with another compiler must not stop on a warning that compiler added.
option(CHAT_WERROR "Treat warnings as errors on the project's own targets" OFF)

function(chat_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
  if(CHAT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
