#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| leaksense_fuzz::csv(data));
