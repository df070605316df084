# ferry_embed(NAME FILE...) generates one C++ source that holds each FILE as a
# string, looked up by its path relative to the source tree (see
# compiler/support/embedded.h). Regenerated whenever an input changes.
function(ferry_embed name)
  set(out ${CMAKE_BINARY_DIR}/generated/${name}.cc)
  # VERBATIM: FILES is a ;-list, which the shell would otherwise run as several commands.
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DROOT=${CMAKE_SOURCE_DIR} "-DFILES=${ARGN}"
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_generate.cmake
    DEPENDS ${ARGN} ${CMAKE_SOURCE_DIR}/cmake/embed_generate.cmake
    COMMENT "Embedding ${name}"
    VERBATIM)
  set(${name}_SOURCES ${out} PARENT_SCOPE)
endfunction()
