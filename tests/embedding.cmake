# Tests of gsgd as a library embedded in other programs (included from
# tests/CMakeLists.txt): the installed package, the public header, the
# Fortran bindings and data-parallel training over MPI.

# What links a sanitizer build of the library needs the sanitizer runtimes.
set(san "")
if(GSGD_SANITIZE)
  set(san -fsanitize=address,undefined)
endif()

# Installs the build into a temporary prefix and builds tests/consumer and
# the examples against it, with find_package and with pkg-config.
add_test(NAME install_consumer
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/test_install.sh ${CMAKE_BINARY_DIR}
    ${PROJECT_SOURCE_DIR} ${CMAKE_INSTALL_LIBDIR} ${CMAKE_COMMAND} ${CMAKE_C_COMPILER} "${san}")
set_tests_properties(install_consumer PROPERTIES LABELS cpu TIMEOUT 120
  ENVIRONMENT "OMP_NUM_THREADS=1")

# --- header hygiene ----------------------------------------------------------
set(hdr ${CMAKE_CURRENT_SOURCE_DIR}/header)
set(strict -pedantic-errors -Wall -Wextra -Werror -I${PROJECT_SOURCE_DIR}/include)
foreach(std c99 c11)
  add_test(NAME header_${std}
    COMMAND ${CMAKE_C_COMPILER} -std=${std} ${strict} -fsyntax-only ${hdr}/use_header.c)
endforeach()
add_test(NAME header_namespace_and_no_cuda
  COMMAND ${CMAKE_COMMAND} -DCC=${CMAKE_C_COMPILER} -DINCLUDE_DIR=${PROJECT_SOURCE_DIR}/include
    -DHERE=${hdr} -P ${hdr}/check.cmake)
set_tests_properties(header_c99 header_c11 header_namespace_and_no_cuda PROPERTIES LABELS cpu)
# Style rule 12: every function has a doc comment right above it, and one
# returning a gsgd_status names the statuses ("Returns OK; ..."), each one
# a row of GSGD_STATUS_MAP. The fixture breaks each rule once: the check
# must name all five problems and pass its one good function.
add_test(NAME header_documents_statuses
  COMMAND ${CMAKE_COMMAND} -DHEADER=${PROJECT_SOURCE_DIR}/include/gsgd.h
    -P ${hdr}/status_docs.cmake)
add_test(NAME header_status_docs_catch_each_problem
  COMMAND ${CMAKE_COMMAND} -DHEADER=${hdr}/bad_status_docs.h -P ${hdr}/status_docs.cmake)
set_tests_properties(header_status_docs_catch_each_problem PROPERTIES
  PASS_REGULAR_EXPRESSION "GSGD_STATUS_NO_SUCH_THING is mentioned but is not a status.*gsgd_bad_no_returns: its comment has no sentence.*gsgd_bad_no_comment: no doc comment.*gsgd_bad_unknown_status: 'NOT_A_STATUS'.*gsgd_bad_blank_line: no doc comment"
  FAIL_REGULAR_EXPRESSION "gsgd_good")
set_tests_properties(header_documents_statuses header_status_docs_catch_each_problem
  PROPERTIES LABELS cpu)
include(CheckLanguage)
check_language(CXX)
if(CMAKE_CXX_COMPILER)
  # Compiled as C++ and linked: a missing extern "C" fails the link.
  add_test(NAME header_cxx_build
    COMMAND ${CMAKE_CXX_COMPILER} -std=c++11 ${strict} ${san} -x c++ ${hdr}/use_header.c -x none
      $<TARGET_FILE:gsgd> -Wl,-rpath,$<TARGET_FILE_DIR:gsgd>
      -o ${CMAKE_CURRENT_BINARY_DIR}/header_cxx)
  add_test(NAME header_cxx_run COMMAND ${CMAKE_CURRENT_BINARY_DIR}/header_cxx)
  set_tests_properties(header_cxx_build PROPERTIES FIXTURES_SETUP header_cxx LABELS cpu)
  set_tests_properties(header_cxx_run PROPERTIES FIXTURES_REQUIRED header_cxx LABELS cpu)
endif()

# --- Fortran -----------------------------------------------------------------
# Every function and constant of gsgd.h has its Fortran counterpart, with
# the same value.
add_test(NAME fortran_bindings_cover_the_header
  COMMAND ${CMAKE_COMMAND} -DHEADER=${PROJECT_SOURCE_DIR}/include/gsgd.h
    -DMODULE=${PROJECT_SOURCE_DIR}/bindings/fortran/gsgd.f90
    -P ${CMAKE_CURRENT_SOURCE_DIR}/check_fortran_bindings.cmake)
set_tests_properties(fortran_bindings_cover_the_header PROPERTIES LABELS cpu)
if(GSGD_HAVE_FORTRAN)
  # The Fortran example and the C one train the same problem through the
  # same library calls: their parameters must be the same bits.
  add_test(NAME fortran_example_matches_c
    COMMAND ${CMAKE_COMMAND} -DC_EXE=$<TARGET_FILE:gsgd_example_embed>
      -DF_EXE=$<TARGET_FILE:gsgd_example_fortran> -DWORK=${CMAKE_CURRENT_BINARY_DIR}
      -P ${CMAKE_CURRENT_SOURCE_DIR}/compare_examples.cmake)
  set_tests_properties(fortran_example_matches_c PROPERTIES LABELS cpu
    ENVIRONMENT "OMP_NUM_THREADS=1")
endif()

# --- data-parallel training --------------------------------------------------
if(GSGD_HAVE_MPI)
  set(mpiexec "${MPIEXEC_EXECUTABLE}")
  if(MPI_C_LIBRARY_VERSION_STRING MATCHES "Open MPI")
    # CI runs as root in a container on two cores.
    string(APPEND mpiexec " --oversubscribe --allow-run-as-root")
  endif()
  add_executable(test_distributed mpi/test_distributed.c testutil.c)
  target_include_directories(test_distributed PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}
    ${CRITERION_INCLUDE_DIR})
  target_compile_definitions(test_distributed PRIVATE _POSIX_C_SOURCE=200809L
    GSGD_CLI_PATH="$<TARGET_FILE:gsgd_cli>" GSGD_MPIEXEC="${mpiexec}")
  target_link_libraries(test_distributed PRIVATE gsgd_static ${CRITERION_LIBRARY})
  add_dependencies(test_distributed gsgd_cli)
  add_test(NAME test_distributed COMMAND test_distributed --verbose=0 -j1)
  # vader's single-copy mechanism needs ptrace rights containers lack.
  # Open MPI's components leak at MPI_Finalize (and are unloaded, so a
  # suppression cannot name them): no leak check in this test's processes;
  # the trainer's memory is leak-checked by the in-process suites.
  set(env OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
    OMPI_MCA_btl_vader_single_copy_mechanism=none
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ASAN_OPTIONS=detect_leaks=0)
  set_tests_properties(test_distributed PROPERTIES LABELS cpu TIMEOUT 120 ENVIRONMENT "${env}")
else()
  add_test(NAME cli_distributed_not_built_in
    COMMAND sh -c "\"$0\" train --distributed --data synth:40,2,2 --model softmax; echo exit=$?"
      $<TARGET_FILE:gsgd_cli>)
  set_tests_properties(cli_distributed_not_built_in PROPERTIES LABELS cpu
    PASS_REGULAR_EXPRESSION "not built in.*exit=2")
endif()
