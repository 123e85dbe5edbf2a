# Style rule 12 for the public header (cmake -P, see tests/embedding.cmake):
#  - every function declared with GSGD_API has a doc comment on the lines
#    right above it;
#  - one that returns a gsgd_status says which statuses in that comment, in
#    one sentence "Returns OK; NAME (why); NAME, NAME (CUDA); ...", where
#    every upper-case word outside parentheses is a row of GSGD_STATUS_MAP;
#  - every GSGD_STATUS_<NAME> the header mentions is a row of the map.
# Input: HEADER (include/gsgd.h, or a fixture that breaks these rules).
if(NOT DEFINED HEADER)
  message(FATAL_ERROR "status_docs.cmake: HEADER is not set")
endif()
cmake_minimum_required(VERSION 3.25) # policies: IN_LIST, while(TRUE)
file(READ ${HEADER} h)

# The statuses: the X-macro rows X(NAME, value, "text").
string(REGEX MATCHALL "X\\([A-Z_]+, [0-9]+," rows "${h}")
set(statuses "")
foreach(r ${rows})
  string(REGEX MATCH "X\\(([A-Z_]+)," _ "${r}")
  list(APPEND statuses ${CMAKE_MATCH_1})
endforeach()
if(NOT statuses)
  message(FATAL_ERROR "${HEADER}: no GSGD_STATUS_MAP rows X(NAME, value, \"text\") found")
endif()

set(problems "")

# Prefixed mentions anywhere ("fails with GSGD_STATUS_DEVICE_OUT_OF_MEMORY").
# The map itself and the helper macros that expand it (names ending in _)
# are not statuses.
string(REGEX MATCHALL "GSGD_STATUS_[A-Z][A-Z0-9_]*" mentions "${h}")
list(REMOVE_DUPLICATES mentions)
foreach(m ${mentions})
  string(REGEX REPLACE "^GSGD_STATUS_" "" name "${m}")
  if(name STREQUAL "MAP" OR name MATCHES "_$")
    continue()
  endif()
  if(NOT name IN_LIST statuses)
    list(APPEND problems "${m} is mentioned but is not a status of GSGD_STATUS_MAP")
  endif()
endforeach()

# Declarations start a line with "GSGD_API "; the #define lines of the
# macro do not. Positions, not lists: comments hold ';' and '['.
set(n_functions 0)
set(n_status 0)
set(start 0)
while(TRUE)
  string(SUBSTRING "${h}" ${start} -1 tail)
  string(FIND "${tail}" "\nGSGD_API " rel)
  if(rel EQUAL -1)
    break()
  endif()
  math(EXPR pos "${start} + ${rel} + 1")
  math(EXPR start "${pos} + 1")
  string(SUBSTRING "${h}" ${pos} 300 decl)
  if(NOT decl MATCHES "^GSGD_API ([^(]*[ *])(gsgd_[a-z0-9_]+)\\(")
    string(REGEX MATCH "^[^\n]*" line "${decl}")
    list(APPEND problems "cannot read the declaration '${line}'")
    continue()
  endif()
  string(STRIP "${CMAKE_MATCH_1}" type)
  set(fn ${CMAKE_MATCH_2})
  math(EXPR n_functions "${n_functions} + 1")

  # The comment must end on the line right above the declaration.
  string(SUBSTRING "${h}" 0 ${pos} before)
  if(NOT before MATCHES "\\*/[ \t]*\n$")
    list(APPEND problems "${fn}: no doc comment on the line right above it")
    continue()
  endif()
  string(FIND "${before}" "/*" open REVERSE)
  string(SUBSTRING "${before}" ${open} -1 comment)
  if(NOT type STREQUAL "gsgd_status")
    continue()
  endif()
  math(EXPR n_status "${n_status} + 1")

  # One line of text: no comment markers, no line-leading '*', and no
  # parenthesised asides (innermost first), which explain a status and may
  # hold any word or '.'.
  string(REGEX REPLACE "\n[ \t]*\\*" " " text "${comment}")
  set(prev "")
  while(NOT text STREQUAL prev)
    set(prev "${text}")
    string(REGEX REPLACE "\\([^()]*\\)" "" text "${text}")
  endwhile()
  if(NOT text MATCHES "Returns (OK[^.]*)\\.")
    list(APPEND problems "${fn}: its comment has no sentence 'Returns OK...' naming its statuses")
    continue()
  endif()
  string(REGEX MATCHALL "[A-Z][A-Z0-9_]+" words "${CMAKE_MATCH_1}")
  foreach(w ${words})
    if(NOT w IN_LIST statuses)
      list(APPEND problems "${fn}: '${w}' in its Returns sentence is not a status of GSGD_STATUS_MAP")
    endif()
  endforeach()
endwhile()

if(n_functions EQUAL 0)
  list(APPEND problems "no GSGD_API function found")
endif()
if(problems)
  list(JOIN problems "\n  " text)
  message(FATAL_ERROR "${HEADER} breaks style rule 12 (tests/header/status_docs.cmake):\n  ${text}")
endif()
list(LENGTH statuses n_statuses)
message(STATUS "gsgd.h: all ${n_functions} functions have a doc comment; the ${n_status} that "
               "return a gsgd_status name theirs, all among the ${n_statuses} of GSGD_STATUS_MAP")
