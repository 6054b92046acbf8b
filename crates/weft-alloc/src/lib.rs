//! The allocator every Weft binary runs on.
//!
//! mimalloc with its `override` feature serves Rust's allocations and the C library's
//! `malloc`/`free` alike, so librdkafka's per-message and per-header allocations use it too.
//! Those are made on Weft's threads (a produced record's headers) and freed on librdkafka's
//! broker threads, a pattern glibc's arenas handle poorly: on the flows benchmark the override
//! takes about a fifth off the process's CPU per record (bench/flows-observations.md).
//!
//! Two settings keep its memory close to glibc's (measured on the consumer loop, 1M records of
//! 512 B, bench/observations.md), both made by [`configure`]:
//! - mimalloc keeps freed memory for `purge_delay` before returning it to the OS (1 s by
//!   default in mimalloc 3); Weft uses [`PURGE_DELAY_MS`].
//! - mimalloc asks for transparent huge pages on its arenas; a purged range that is used again
//!   is then faulted back in as a whole 2 MiB page, zeroed by the kernel (a tenth of the loop's
//!   CPU in a profile) and counted whole in the RSS. [`configure`] turns THP off for the
//!   process (`PR_SET_THP_DISABLE`, what mimalloc itself does with `MIMALLOC_ALLOW_THP=0`).
//!
//! Peak RSS of the loop with 10 % of its records dead-lettered: 127–132 MiB with THP and the
//! 100 ms delay, 107–113 MiB without THP, ~150 MiB with mimalloc's defaults.
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

/// The environment variable mimalloc reads its THP choice from; when it is set, it wins.
pub const ALLOW_THP_ENV: &str = "MIMALLOC_ALLOW_THP";

/// Sets mimalloc's options for Weft's workload. Call it first thing in `main`. Each setting is
/// left alone when the user set mimalloc's environment variable for it.
pub fn configure() {
    if std::env::var_os(PURGE_DELAY_ENV).is_none() {
        set_purge_delay(PURGE_DELAY_MS);
    }
    if std::env::var_os(ALLOW_THP_ENV).is_none() {
        disable_transparent_huge_pages();
    }
}

/// Turns transparent huge pages off for this process (Linux; elsewhere nothing to do). The
/// kernel checks the flag at each page fault, so memory mapped before the call is covered too.
#[cfg(target_os = "linux")]
fn disable_transparent_huge_pages() {
    // SAFETY: prctl with PR_SET_THP_DISABLE takes plain integer arguments and touches no
    // memory of ours; on failure (an old kernel) it returns -1 and nothing changes.
    #[allow(unsafe_code)]
    let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
}

#[cfg(not(target_os = "linux"))]
fn disable_transparent_huge_pages() {}

/// Whether transparent huge pages are off for this process.
#[cfg(target_os = "linux")]
pub fn transparent_huge_pages_disabled() -> bool {
    // SAFETY: as above; PR_GET_THP_DISABLE returns the flag.
    #[allow(unsafe_code)]
    let flag = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
    flag == 1
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

    #[cfg(target_os = "linux")]
    #[test]
    fn transparent_huge_pages_are_turned_off() {
        disable_transparent_huge_pages();
        assert!(transparent_huge_pages_disabled());
    }

    #[test]
    fn the_purge_delay_is_set_and_read_back() {
        set_purge_delay(PURGE_DELAY_MS);
        assert_eq!(purge_delay_ms(), PURGE_DELAY_MS);
        set_purge_delay(250);
        assert_eq!(purge_delay_ms(), 250);
    }
}
