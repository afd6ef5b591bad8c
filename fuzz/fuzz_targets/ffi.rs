#![no_main]

libfuzzer_sys::fuzz_target!(|calls: Vec<leaksense_fuzz::Call>| leaksense_fuzz::ffi(&calls));
