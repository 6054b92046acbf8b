//! The allocator every Weft binary runs on.
//!
//! mimalloc with its `override` feature serves Rust's allocations and the C library's
//! `malloc`/`free` alike, so librdkafka's per-message and per-header allocations use it too.
//! Those are made on Weft's threads (a produced record's headers) and freed on librdkafka's
//! broker threads, a pattern glibc's arenas handle poorly: on the flows benchmark the override
//! takes about a fifth off the process's CPU per record (bench/flows-observations.md).
//!
//! mimalloc keeps freed memory for `purge_delay` before returning it to the OS (1 s by default
//! in mimalloc 3). With librdkafka's buffers that raised the consumer loop's peak RSS past its
//! 150 MiB target; [`configure`] shortens the delay to [`PURGE_DELAY_MS`], which kept the peak
//! at ~120–130 MiB with the CPU gain intact.
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: weft_alloc::MiMalloc = weft_alloc::MiMalloc;
//!
//! fn main() {
//!     weft_alloc::configure();
//! }
//! ```

use std::ffi::c_long;

pub use mimalloc::MiMalloc;

/// The purge delay Weft sets, in milliseconds.
pub const PURGE_DELAY_MS: c_long = 100;

/// The environment variable mimalloc reads its purge delay from; when it is set, it wins.
pub const PURGE_DELAY_ENV: &str = "MIMALLOC_PURGE_DELAY";

/// mimalloc 3's `mi_option_purge_delay` (its position in `mi_option_e`, mimalloc.h).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Sets mimalloc's options for Weft's workload. Call it first thing in `main`; it does nothing
/// when the user set `MIMALLOC_PURGE_DELAY` themselves.
pub fn configure() {
    if std::env::var_os(PURGE_DELAY_ENV).is_some() {
        return;
    }
    set_purge_delay(PURGE_DELAY_MS);
}

/// The purge delay in effect, in milliseconds.
pub fn purge_delay_ms() -> c_long {
    // SAFETY: reads one of mimalloc's options; any option index below `_mi_option_last` is
    // valid and the call has no other precondition.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY)
    }
}

fn set_purge_delay(ms: c_long) {
    // SAFETY: sets one of mimalloc's options (a valid index, see `purge_delay_ms`); mimalloc
    // reads the value again at each purge decision, so setting it after start-up is sound.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, ms)
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_is_set_and_read_back() {
        set_purge_delay(PURGE_DELAY_MS);
        assert_eq!(purge_delay_ms(), PURGE_DELAY_MS);
        set_purge_delay(250);
        assert_eq!(purge_delay_ms(), 250);
    }
}
