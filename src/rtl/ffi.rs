//! Raw bindings to the generated model shims (`csrc/pam_vmodel.h`, build.rs).
//!
//! Used only by `crate::rtl::model` and `crate::rtl::cpp_bench`, which own every `unsafe` block.
#![allow(non_camel_case_types, non_upper_case_globals, non_snake_case, dead_code)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
