# Header hygiene checks run with `cmake -P` (see tests/embedding.cmake):
#  - gsgd.h pulls in no CUDA (or cuBLAS, cuRAND, NCCL) header: users build
#    without the toolkit, and streams cross the API as void *;
#  - every macro gsgd.h defines is in the GSGD_ namespace.
# Inputs: CC (a C compiler), INCLUDE_DIR, HERE (this directory).
foreach(v CC INCLUDE_DIR HERE)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "header/check.cmake: ${v} is not set")
  endif()
endforeach()

execute_process(COMMAND ${CC} -M -I${INCLUDE_DIR} ${HERE}/use_header.c
  OUTPUT_VARIABLE deps RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "listing the headers of use_header.c failed: ${err}")
endif()
string(TOLOWER "${deps}" deps_lower)
if(deps_lower MATCHES "[/ ](cuda[a-z_]*|cublas[a-z_]*|curand[a-z_]*|nccl)\\.h")
  message(FATAL_ERROR "gsgd.h includes the CUDA-side header '${CMAKE_MATCH_1}.h':\n${deps}")
endif()

function(defined_macros out)
  execute_process(COMMAND ${CC} -dM -E ${ARGN} ${HERE}/baseline.c
    OUTPUT_VARIABLE text RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "preprocessing baseline.c failed: ${err}")
  endif()
  string(REGEX MATCHALL "#define [A-Za-z_][A-Za-z0-9_]*" defs "${text}")
  list(TRANSFORM defs REPLACE "#define " "")
  set(${out} ${defs} PARENT_SCOPE)
endfunction()
defined_macros(base)
defined_macros(with -I${INCLUDE_DIR} -include gsgd.h)
list(REMOVE_ITEM with ${base})
set(outside ${with})
list(FILTER outside EXCLUDE REGEX "^GSGD_")
if(outside)
  message(FATAL_ERROR "gsgd.h defines macros outside the GSGD_ namespace: ${outside}")
endif()
list(LENGTH with n)
message(STATUS "gsgd.h: no CUDA header; its ${n} macros all start with GSGD_")
