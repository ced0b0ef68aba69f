# `cmake --install` puts decoflow's C++ libraries, their headers and a CMake
# package in a prefix, so that another project can
#
#   find_package(decoflow 0.1 REQUIRED)            # CMAKE_PREFIX_PATH=<prefix>
#   target_link_libraries(app PRIVATE decoflow::engine)
#
# Targets: decoflow::codecs, decoflow::engine, decoflow::graphs and, when
# decoflow was built with Python glue, decoflow::python (the subinterpreter
# host, its own export set: find_package(decoflow COMPONENTS python)).
# decoflowConfig.cmake finds oneTBB, Threads and the compression libraries
# again (with DecoflowDependencies.cmake, installed beside it), and defines
# decoflow::zstd, decoflow::lz4, ... for programs that call them directly.

include(CMakePackageConfigHelpers)

set(decoflow_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/decoflow)

install(TARGETS decoflow_codecs decoflow_engine decoflow_graphs EXPORT decoflowTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT decoflowTargets NAMESPACE decoflow:: DESTINATION ${decoflow_cmake_dir})

if(TARGET decoflow_python)
  install(TARGETS decoflow_python EXPORT decoflowPythonTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT decoflowPythonTargets NAMESPACE decoflow:: DESTINATION ${decoflow_cmake_dir})
  set(DECOFLOW_INSTALLED_PYTHON_VERSION "${Python_VERSION_MAJOR}.${Python_VERSION_MINOR}")
else()
  set(DECOFLOW_INSTALLED_PYTHON_VERSION "")
endif()

# One include root: codecs', engine's, graphs' and the Python host's headers
# side by side.
foreach(dir codecs engine graphs engine/python_host)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/include/decoflow
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endforeach()

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/decoflowConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/decoflowConfig.cmake
  INSTALL_DESTINATION ${decoflow_cmake_dir})
# 0.x: a minor version may change the API.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/decoflowConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/decoflowConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/decoflowConfigVersion.cmake
              ${CMAKE_CURRENT_LIST_DIR}/DecoflowDependencies.cmake
        DESTINATION ${decoflow_cmake_dir})
