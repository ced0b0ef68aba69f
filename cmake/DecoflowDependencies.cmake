# System dependencies. oneTBB and Catch2 ship CMake configs on Debian; the
# compression libraries ship pkg-config files or nothing, so find them by hand
# and wrap each in an imported target with one name.
find_package(Threads REQUIRED)
find_package(TBB REQUIRED COMPONENTS tbb)

# Static linking of the codecs (DECOFLOW_STATIC_CODECS=ON) makes binaries that
# run on machines without the -dev packages (the benchmark device).
option(DECOFLOW_STATIC_CODECS "Link zstd, lz4, xxhash, libdeflate, lzma statically" OFF)

function(decoflow_find_lib target header libname)
  find_path(${target}_INCLUDE_DIR ${header} REQUIRED)
  if(DECOFLOW_STATIC_CODECS)
    find_library(${target}_LIBRARY NAMES lib${libname}.a ${libname} REQUIRED)
  else()
    find_library(${target}_LIBRARY NAMES ${libname} REQUIRED)
  endif()
  add_library(decoflow::${target} UNKNOWN IMPORTED)
  set_target_properties(decoflow::${target} PROPERTIES
    IMPORTED_LOCATION "${${target}_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${${target}_INCLUDE_DIR}")
endfunction()

decoflow_find_lib(zstd zstd.h zstd)
decoflow_find_lib(lz4 lz4frame.h lz4)
decoflow_find_lib(xxhash xxhash.h xxhash)
decoflow_find_lib(deflate libdeflate.h deflate)
decoflow_find_lib(lzma lzma.h lzma)
