# Warnings are errors on our own targets; third-party headers come in as SYSTEM
# through the pkg-config imported targets.
function(chat_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror -Wshadow
                                           -Wnon-virtual-dtor)
endfunction()
