# Runs the C and the Fortran embedding examples (cmake -P) and requires the
# parameters they write to be identical bytes. Inputs: C_EXE, F_EXE, WORK.
foreach(lang C F)
  execute_process(COMMAND ${${lang}_EXE} ${WORK}/params_${lang}.bin RESULT_VARIABLE rc
    OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "${${lang}_EXE}: ${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${${lang}_EXE} failed (${rc})")
  endif()
endforeach()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK}/params_C.bin
  ${WORK}/params_F.bin RESULT_VARIABLE differ)
if(differ)
  message(FATAL_ERROR "the Fortran example's parameters differ from the C example's")
endif()
file(SIZE ${WORK}/params_C.bin bytes)
message(STATUS "C and Fortran wrote the same ${bytes} bytes of parameters")
