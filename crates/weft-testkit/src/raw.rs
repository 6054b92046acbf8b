//! Records that rust-rdkafka's safe API cannot write, produced through librdkafka's C API: a
//! header name that is not UTF-8, as Sarama (`[]byte` header keys) or the C API can write.

// The produce call through librdkafka's C API.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_void, CStr, CString};
use std::time::Duration;

use anyhow::{bail, Context as _};
use rdkafka::bindings as rdsys;
use rdkafka::producer::{BaseProducer, Producer as _};
use rdkafka::ClientConfig;

use crate::TestKafka;

impl TestKafka {
    /// Produces one record to `topic` with one header whose name is `name` as raw bytes, and
    /// waits until the producer's queue is flushed (the test reads the record back).
    pub fn produce_raw_header(
        &self,
        topic: &str,
        key: &[u8],
        value: &[u8],
        name: &[u8],
        header_value: &[u8],
    ) -> anyhow::Result<()> {
        let producer: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", &self.config.bootstrap_servers)
            .create()?;
        let topic_c = CString::new(topic)?;
        let len = |b: &[u8]| isize::try_from(b.len()).context("too long");
        let (name_len, value_len) = (len(name)?, len(header_value)?);
        // SAFETY: a new headers object; `rd_kafka_header_add` copies name and value.
        let headers = unsafe { rdsys::rd_kafka_headers_new(1) };
        let err = unsafe {
            rdsys::rd_kafka_header_add(
                headers,
                name.as_ptr().cast::<c_char>(),
                name_len,
                header_value.as_ptr().cast::<c_void>(),
                value_len,
            )
        };
        if err != rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            // SAFETY: not handed to librdkafka's producer: still ours.
            unsafe { rdsys::rd_kafka_headers_destroy(headers) };
            bail!("rd_kafka_header_add failed: {err:?}");
        }
        let vu = |vtype, u| rdsys::rd_kafka_vu_t { vtype, u };
        use rdsys::rd_kafka_vtype_t as T;
        let mem = |b: &[u8]| rdsys::rd_kafka_vu_s__bindgen_ty_1 {
            mem: rdsys::rd_kafka_vu_s__bindgen_ty_1__bindgen_ty_1 {
                ptr: b.as_ptr().cast::<c_void>().cast_mut(),
                size: b.len(),
            },
        };
        let vus = [
            vu(
                T::RD_KAFKA_VTYPE_TOPIC,
                rdsys::rd_kafka_vu_s__bindgen_ty_1 {
                    cstr: topic_c.as_ptr(),
                },
            ),
            vu(T::RD_KAFKA_VTYPE_KEY, mem(key)),
            vu(T::RD_KAFKA_VTYPE_VALUE, mem(value)),
            vu(
                T::RD_KAFKA_VTYPE_MSGFLAGS,
                rdsys::rd_kafka_vu_s__bindgen_ty_1 {
                    i: rdsys::RD_KAFKA_MSG_F_COPY,
                },
            ),
            vu(
                T::RD_KAFKA_VTYPE_HEADERS,
                rdsys::rd_kafka_vu_s__bindgen_ty_1 { headers },
            ),
        ];
        // SAFETY: the producer's handle, and values that outlive the call (copied: F_COPY);
        // on success librdkafka owns `headers`.
        let error = unsafe {
            rdsys::rd_kafka_produceva(producer.client().native_ptr(), vus.as_ptr(), vus.len())
        };
        if !error.is_null() {
            // SAFETY: an error object returned to us, with a NUL-terminated message; on
            // failure the headers stay ours.
            let msg = unsafe { CStr::from_ptr(rdsys::rd_kafka_error_string(error)) }
                .to_string_lossy()
                .into_owned();
            unsafe {
                rdsys::rd_kafka_error_destroy(error);
                rdsys::rd_kafka_headers_destroy(headers);
            }
            bail!("producing to {topic}: {msg}");
        }
        producer
            .flush(Duration::from_secs(30))
            .with_context(|| format!("producing to {topic}"))?;
        Ok(())
    }
}
