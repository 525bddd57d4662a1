# Finds oneDNN (Debian: libdnnl-dev) and defines the imported target DNNL::dnnl, the name oneDNN's
# own package uses. Debian's dnnl-config.cmake is not usable as is: it requires OpenCL's
# development files (oneDNN is built there with the OpenCL GPU runtime), which xgrad does not need.
# Installed beside xgradConfig.cmake, which runs it again on the consumer's machine.
find_path(DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.h)
find_library(DNNL_LIBRARY dnnl)
mark_as_advanced(DNNL_INCLUDE_DIR DNNL_LIBRARY)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(DNNL REQUIRED_VARS DNNL_LIBRARY DNNL_INCLUDE_DIR)
if(DNNL_FOUND AND NOT TARGET DNNL::dnnl)
  add_library(DNNL::dnnl UNKNOWN IMPORTED)
  set_target_properties(DNNL::dnnl PROPERTIES IMPORTED_LOCATION "${DNNL_LIBRARY}"
                        INTERFACE_INCLUDE_DIRECTORIES "${DNNL_INCLUDE_DIR}")
endif()
