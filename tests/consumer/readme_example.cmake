# decoflow_readme_example(OUT_VAR README): writes the C++ example of README
# (between <!-- cpp-example --> and <!-- /cpp-example -->) into the build
# folder and returns its path: the consumers compile exactly what users read.
function(decoflow_readme_example out readme)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${readme})
  file(READ ${readme} text)
  string(REGEX MATCH "<!-- cpp-example -->[^`]*```cpp\n(.*)```[^`]*<!-- /cpp-example -->" _ "${text}")
  if(NOT CMAKE_MATCH_1)
    message(FATAL_ERROR "${readme} has no <!-- cpp-example --> block")
  endif()
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/readme_example.cpp "${CMAKE_MATCH_1}")
  set(${out} ${CMAKE_CURRENT_BINARY_DIR}/readme_example.cpp PARENT_SCOPE)
endfunction()
