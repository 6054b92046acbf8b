//! The headers of a consumed message, read straight from librdkafka, once each.
//!
//! rust-rdkafka's `BorrowedHeaders` panics on a header name that is not UTF-8
//! (`CStr::to_str().unwrap()` in `try_get`), and a consumer cannot choose what others write:
//! Kafka stores header names as bytes, and clients other than Java's (Sarama's `[]byte` keys,
//! librdkafka's C API) can write any. Here such a name is read with U+FFFD in place of the bytes
//! that are not UTF-8 — what Java's clients show for it — so one such record cannot stop a
//! stage. Reading each header once also saves the calls into librdkafka and UTF-8 checks that
//! iterating `BorrowedHeaders` several times costs.

// Two calls into librdkafka's header API (the only way to read a name as bytes).
#![allow(unsafe_code)]

use std::borrow::Cow;
use std::ffi::{c_char, c_void, CStr};

use rdkafka::bindings as rdsys;
use rdkafka::message::{BorrowedMessage, Message as _};

/// One header of a consumed message, borrowed from the consumer's buffers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawHeader<'a> {
    /// The name; bytes that are not UTF-8 are replaced by U+FFFD (then owned).
    pub name: Cow<'a, str>,
    pub value: Option<&'a [u8]>,
}

/// Every header of `m`, in order.
pub fn read<'a>(m: &'a BorrowedMessage<'_>) -> Vec<RawHeader<'a>> {
    let Some(hs) = m.headers() else {
        return Vec::new();
    };
    // rust-rdkafka's `BorrowedHeaders` is a zero-sized view whose address is librdkafka's
    // `rd_kafka_headers_t` of the message (it casts it back the same way).
    let ptr = std::ptr::from_ref(hs).cast::<rdsys::rd_kafka_headers_t>();
    // SAFETY: `ptr` is the message's headers object, valid while `m` is borrowed.
    let count = unsafe { rdsys::rd_kafka_header_cnt(ptr) };
    let mut out = Vec::with_capacity(count);
    for idx in 0..count {
        let mut name: *const c_char = std::ptr::null();
        let mut value: *const c_void = std::ptr::null();
        let mut size: usize = 0;
        // SAFETY: `idx < count`; the out-pointers point to locals. librdkafka returns pointers
        // into the headers object (a NUL-terminated name, `size` bytes of value or NULL),
        // which live as long as the message.
        let err =
            unsafe { rdsys::rd_kafka_header_get_all(ptr, idx, &mut name, &mut value, &mut size) };
        if err != rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR || name.is_null() {
            break;
        }
        // SAFETY: see above: a NUL-terminated string owned by the headers object.
        let name = String::from_utf8_lossy(unsafe { CStr::from_ptr(name) }.to_bytes());
        let value = (!value.is_null()).then(|| {
            // SAFETY: see above: `size` readable bytes owned by the headers object.
            unsafe { std::slice::from_raw_parts(value.cast::<u8>(), size) }
        });
        out.push(RawHeader { name, value });
    }
    out
}
