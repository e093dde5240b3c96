//! Raw bytes as an inbound message. `parse` promises never to panic on hostile
//! input; the reply stripper and the case-reference finder run on what it
//! decoded, and the stripper also on the raw bytes read as text.
#![no_main]

use kept_mail::inbound::{Limits, find_case_reference, parse, strip_quoted_reply};
use libfuzzer_sys::fuzz_target;

/// Small limits so the size checks are reachable with fuzzer-sized inputs.
const LIMITS: Limits = Limits { max_attachment_bytes: 512, max_total_bytes: 64 * 1024 };

fuzz_target!(|data: &[u8]| {
    match parse(data, &LIMITS) {
        Ok(mail) => {
            let stripped = strip_quoted_reply(&mail.text);
            // The stripper only ever cuts: it never adds text.
            assert!(stripped.len() <= mail.text.len(), "strip_quoted_reply grew the text");
            assert_eq!(mail.case_reference, find_case_reference(&mail.subject));
            for attachment in &mail.attachments {
                assert!(attachment.bytes.len() <= LIMITS.max_attachment_bytes, "an attachment over the limit was kept");
            }
        }
        Err(error) => {
            let _ = error.code();
        }
    }
    let _ = strip_quoted_reply(&String::from_utf8_lossy(data));
});
