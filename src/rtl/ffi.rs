//! Raw bindings to the generated model shims (`csrc/pam_vmodel.h`, build.rs).
//!
//! Nothing here is used outside `crate::rtl::model`, which owns every `unsafe` block.
#![allow(non_camel_case_types, non_upper_case_globals, non_snake_case, dead_code)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
