# Third-party dependencies. Required ones fail configuration with the package to install;
# optional ones (LibTorch, CUDA, NCCL, MPI) follow the AUTO|ON|OFF switches.
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(yaml-cpp REQUIRED)  # Debian: libyaml-cpp-dev; GPU machine: yaml-cpp 0.8
find_package(nlohmann_json 3.10 REQUIRED)  # Debian: nlohmann-json3-dev
find_package(CLI11 QUIET CONFIG)
if(NOT CLI11_FOUND)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)  # Debian: libcli11-dev
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 INTERFACE ${CLI11_INCLUDE_DIR})
endif()
# yaml-cpp 0.7 (Debian) exports `yaml-cpp`, 0.8 exports `yaml-cpp::yaml-cpp`.
if(TARGET yaml-cpp::yaml-cpp)
  set(SELLER_YAML_TARGET yaml-cpp::yaml-cpp)
else()
  set(SELLER_YAML_TARGET yaml-cpp)
endif()

function(seller_resolve_switch var found)
  if(${var} STREQUAL "ON" AND NOT ${found})
    message(FATAL_ERROR "${var}=ON but the dependency was not found")
  endif()
endfunction()

# --- LibTorch: taken from the project venv's torch wheel (scripts/setup.sh pins 2.11.0).
set(SELLER_HAVE_TORCH OFF)
if(NOT SELLER_WITH_TORCH STREQUAL "OFF")
  if(NOT Torch_DIR)
    foreach(py "${PROJECT_SOURCE_DIR}/.venv/bin/python" python3)
      execute_process(COMMAND ${py} -c "import torch;print(torch.utils.cmake_prefix_path)"
                      OUTPUT_VARIABLE _torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE
                      RESULT_VARIABLE _rc ERROR_QUIET)
      if(_rc EQUAL 0 AND _torch_prefix)
        list(APPEND CMAKE_PREFIX_PATH "${_torch_prefix}")
        break()
      endif()
    endforeach()
  endif()
  # Hopper (H100/H200) by default; an explicit list also stops TorchConfig from probing the
  # installed GPUs with try_run, which fails on machines without one.
  if(NOT TORCH_CUDA_ARCH_LIST)
    set(TORCH_CUDA_ARCH_LIST "9.0" CACHE STRING "CUDA architectures for LibTorch extensions")
  endif()
  if(NOT DEFINED CMAKE_CUDA_STANDARD)
    set(CMAKE_CUDA_STANDARD 17)
  endif()
  find_package(Torch QUIET)
  if(Torch_FOUND)
    set(SELLER_HAVE_TORCH ON)
  endif()
endif()
seller_resolve_switch(SELLER_WITH_TORCH SELLER_HAVE_TORCH)

# --- CUDA toolkit (compiles here, runs on the GPU machine).
set(SELLER_HAVE_CUDA OFF)
if(NOT SELLER_WITH_CUDA STREQUAL "OFF")
  find_package(CUDAToolkit QUIET)
  if(CUDAToolkit_FOUND)
    set(SELLER_HAVE_CUDA ON)
  endif()
endif()
seller_resolve_switch(SELLER_WITH_CUDA SELLER_HAVE_CUDA)

# --- NCCL: headers from the CUDA toolkit or the system; library from the system or the torch
# wheel's nvidia-nccl package.
set(SELLER_HAVE_NCCL OFF)
if(SELLER_HAVE_CUDA AND NOT SELLER_WITH_NCCL STREQUAL "OFF")
  file(GLOB _nccl_wheel_dirs "${PROJECT_SOURCE_DIR}/.venv/lib/python3*/site-packages/nvidia/nccl")
  find_path(NCCL_INCLUDE_DIR nccl.h
            HINTS ${CUDAToolkit_INCLUDE_DIRS} ${_nccl_wheel_dirs}
            PATH_SUFFIXES include)
  find_library(NCCL_LIBRARY NAMES nccl libnccl.so.2
               HINTS ${CUDAToolkit_LIBRARY_DIR} ${_nccl_wheel_dirs}
               PATH_SUFFIXES lib lib64)
  if(NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
    set(SELLER_HAVE_NCCL ON)
    add_library(seller_nccl INTERFACE)
    target_include_directories(seller_nccl SYSTEM INTERFACE ${NCCL_INCLUDE_DIR})
    target_link_libraries(seller_nccl INTERFACE ${NCCL_LIBRARY} CUDA::cudart)
  endif()
endif()
seller_resolve_switch(SELLER_WITH_NCCL SELLER_HAVE_NCCL)

# --- MPI (OpenMPI on both machines).
set(SELLER_HAVE_MPI OFF)
if(NOT SELLER_WITH_MPI STREQUAL "OFF")
  find_package(MPI QUIET COMPONENTS CXX)
  if(MPI_CXX_FOUND)
    set(SELLER_HAVE_MPI ON)
  endif()
endif()
seller_resolve_switch(SELLER_WITH_MPI SELLER_HAVE_MPI)

if(SELLER_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(SELLER_BUILD_BENCH)
  find_package(benchmark QUIET)
endif()

# Build facts the binaries print (seller --version) and tests consult.
add_library(seller_build_info INTERFACE)
target_compile_definitions(seller_build_info INTERFACE
  SELLER_VERSION="${PROJECT_VERSION}"
  SELLER_HAVE_TORCH=$<BOOL:${SELLER_HAVE_TORCH}>
  SELLER_HAVE_CUDA=$<BOOL:${SELLER_HAVE_CUDA}>
  SELLER_HAVE_NCCL=$<BOOL:${SELLER_HAVE_NCCL}>
  SELLER_HAVE_MPI=$<BOOL:${SELLER_HAVE_MPI}>)
