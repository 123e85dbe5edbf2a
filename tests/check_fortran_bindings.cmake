# The Fortran module must keep up with the C header (cmake -P): every
# function declared with GSGD_API has a bind(C, name="...") interface, and
# every enum constant and version macro is a parameter of the same value.
# Inputs: HEADER (include/gsgd.h), MODULE (bindings/fortran/gsgd.f90).
file(READ ${HEADER} h)
file(READ ${MODULE} f)
set(problems "")

# Functions: "GSGD_API <type> [*]name(".
string(REGEX MATCHALL "GSGD_API[^;(]*[ *](gsgd_[a-z0-9_]+)\\(" decls "${h}")
set(n_functions 0)
foreach(d ${decls})
  string(REGEX MATCH "(gsgd_[a-z0-9_]+)\\($" _ "${d}")
  set(name ${CMAKE_MATCH_1})
  math(EXPR n_functions "${n_functions} + 1")
  if(NOT f MATCHES "bind\\(C, name=\"${name}\"\\)")
    list(APPEND problems "no interface for ${name}")
  endif()
endforeach()

# Constants: the status X-macro rows X(NAME, value, "text"), enumerators
# "GSGD_NAME = value" and the version macros.
set(constants "")
string(REGEX MATCHALL "X\\([A-Z_]+, [0-9]+," rows "${h}")
foreach(r ${rows})
  string(REGEX MATCH "X\\(([A-Z_]+), ([0-9]+)," _ "${r}")
  list(APPEND constants "GSGD_STATUS_${CMAKE_MATCH_1}=${CMAKE_MATCH_2}")
endforeach()
string(REGEX MATCHALL "(GSGD_[A-Z0-9_]+) = [0-9]+" enums "${h}")
string(REGEX MATCHALL "#define GSGD_VERSION_(MAJOR|MINOR|PATCH) [0-9]+" versions "${h}")
foreach(e ${enums} ${versions})
  string(REGEX MATCH "(GSGD_[A-Z0-9_]+)[ =]+([0-9]+)$" _ "${e}")
  list(APPEND constants "${CMAKE_MATCH_1}=${CMAKE_MATCH_2}")
endforeach()
foreach(c ${constants})
  string(REPLACE "=" ";" nv "${c}")
  list(GET nv 0 name)
  list(GET nv 1 value)
  if(NOT f MATCHES "parameter :: ${name} = ([0-9]+)\n")
    list(APPEND problems "no parameter ${name} (= ${value})")
  elseif(NOT CMAKE_MATCH_1 EQUAL value)
    list(APPEND problems "${name} is ${CMAKE_MATCH_1} in Fortran but ${value} in C")
  endif()
endforeach()

# Structs passed by value or pointer: every "type, bind(C) :: gsgd_x" has
# the fields of C's "typedef struct { ... } gsgd_x;", same names, same
# order (a missing field shifts the layout: the C side writes past the
# Fortran variable).
string(REGEX MATCHALL "type, bind\\(C\\) :: gsgd_[a-z_]+" ftypes "${f}")
set(n_structs 0)
foreach(t ${ftypes})
  string(REGEX MATCH "gsgd_[a-z_]+$" name "${t}")
  math(EXPR n_structs "${n_structs} + 1")
  string(REGEX MATCH "typedef struct {([^}]*)} ${name};" _ "${h}")
  set(cbody "${CMAKE_MATCH_1}")
  if(NOT cbody)
    list(APPEND problems "type ${name} has no typedef struct in the header")
    continue()
  endif()
  string(REGEX REPLACE "/\\*[^*]*\\*+([^/*][^*]*\\*+)*/" "" cbody "${cbody}")
  # ";" separates CMake list items: the declarations end in "," instead.
  string(REPLACE ";" "," cbody "${cbody}")
  string(REGEX MATCHALL "[a-z_0-9]+," cfields "${cbody}")
  string(REPLACE "," "" cfields "${cfields}")
  string(REGEX MATCH "type, bind\\(C\\) :: ${name}\n(.*)end type ${name}" _ "${f}")
  string(REGEX MATCHALL ":: [a-z_0-9]+" ffields "${CMAKE_MATCH_1}")
  string(REPLACE ":: " "" ffields "${ffields}")
  if(NOT cfields STREQUAL ffields)
    list(JOIN ffields " " ftext)
    list(JOIN cfields " " ctext)
    list(APPEND problems "type ${name} has fields (${ftext}), C has (${ctext})")
  endif()
endforeach()

list(LENGTH constants n_constants)
if(problems)
  list(JOIN problems "\n  " text)
  message(FATAL_ERROR "bindings/fortran/gsgd.f90 is behind include/gsgd.h:\n  ${text}")
endif()
message(STATUS "gsgd.f90 binds all ${n_functions} functions, ${n_constants} constants "
               "and ${n_structs} structs")
