# Warnings, sanitizers and the helper that every seller library uses to get them.
# Warnings are on for our code only; third-party headers are included as SYSTEM.
add_library(seller_warnings INTERFACE)
target_compile_options(seller_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough>)
if(SELLER_WERROR)
  target_compile_options(seller_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
endif()

if(SELLER_SANITIZE)
  add_compile_options(-fsanitize=${SELLER_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=${SELLER_SANITIZE})
endif()

if(SELLER_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SELLER_FUZZ=ON needs clang (configure with CXX=clang++ CC=clang)")
  endif()
  # Every object file gets coverage instrumentation; the fuzz executables add the driver.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# seller_add_library(name SOURCES... [DEPS ...]) with our warning set and include root.
function(seller_add_library name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${A_DEPS} PRIVATE seller_warnings ${A_PRIVATE_DEPS})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()
