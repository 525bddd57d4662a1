# Installation: headers under include/xgrad/ (same relative paths as in the tree, so
# #include <xgrad.hpp> and "core/tensor.hpp" both work), the libraries, and a CMake package
# config so that another project does find_package(xgrad CONFIG REQUIRED) and links xgrad::xgrad
# (and xgrad::distributed when it was built).
include(CMakePackageConfigHelpers)
set(XGRAD_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/xgrad)
set(XGRAD_HEADER_DIRS core ops check nn optim data train)
set(XGRAD_INSTALL_TARGETS xgrad)
set_target_properties(xgrad PROPERTIES EXPORT_NAME xgrad)
if(XGRAD_WITH_MPI)
  list(APPEND XGRAD_HEADER_DIRS distributed)
  list(APPEND XGRAD_INSTALL_TARGETS xgrad_distributed)
  set_target_properties(xgrad_distributed PROPERTIES EXPORT_NAME distributed)
endif()
install(TARGETS ${XGRAD_INSTALL_TARGETS} EXPORT xgradTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${PROJECT_SOURCE_DIR}/xgrad.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/xgrad)
foreach(dir ${XGRAD_HEADER_DIRS})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/xgrad
          FILES_MATCHING PATTERN "*.hpp")
endforeach()
install(EXPORT xgradTargets NAMESPACE xgrad:: DESTINATION ${XGRAD_INSTALL_CMAKEDIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/xgradConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/xgradConfig.cmake
                              INSTALL_DESTINATION ${XGRAD_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/xgradConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/xgradConfig.cmake ${PROJECT_BINARY_DIR}/xgradConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindDNNL.cmake
        DESTINATION ${XGRAD_INSTALL_CMAKEDIR})
