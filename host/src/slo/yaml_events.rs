//! libyaml's event stream (the parser serde_yaml_ng runs), read one event at
//! a time so that the limits can stop it early: a safe wrapper over
//! `unsafe_libyaml`, the only `unsafe` of the SLO reader.

use std::ffi::CStr;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use unsafe_libyaml as unsafe_sys;

/// What the limits need of one event; `line` counts from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Event {
    DocumentStart,
    /// A sequence or a mapping begins.
    CollectionStart {
        anchor: Option<Vec<u8>>,
        line: usize,
        /// A mapping, not a sequence.
        mapping: bool,
    },
    CollectionEnd,
    Scalar {
        anchor: Option<Vec<u8>>,
        bytes: usize,
        line: usize,
        /// The scalar's text, for finding a key (`yaml_lines`).
        text: Vec<u8>,
    },
    Alias {
        anchor: Vec<u8>,
        line: usize,
    },
    /// Stream start, document end: nothing to count.
    Other,
    /// A syntax error, which ends the stream (the full parse names it).
    Broken,
}

/// A libyaml parser over `input`, which it borrows for its life.
pub(super) struct Events<'input> {
    parser: Box<unsafe_sys::yaml_parser_t>,
    done: bool,
    _input: PhantomData<&'input [u8]>,
}

impl<'input> Events<'input> {
    /// A parser of `input`, or `None` when libyaml cannot allocate one.
    pub(super) fn new(input: &'input [u8]) -> Option<Self> {
        let mut parser = Box::new(MaybeUninit::<unsafe_sys::yaml_parser_t>::uninit());
        // SAFETY: initialize writes the whole struct (it zeroes it first) and
        // reports whether its buffers could be allocated; only then is the
        // struct read. The input outlives the parser, as `'input` says.
        unsafe {
            if unsafe_sys::yaml_parser_initialize(parser.as_mut_ptr()).fail {
                return None;
            }
            let mut parser = parser.assume_init();
            unsafe_sys::yaml_parser_set_encoding(&mut *parser, unsafe_sys::YAML_UTF8_ENCODING);
            unsafe_sys::yaml_parser_set_input_string(
                &mut *parser,
                input.as_ptr(),
                input.len() as u64,
            );
            Some(Events {
                parser,
                done: false,
                _input: PhantomData,
            })
        }
    }
}

impl Iterator for Events<'_> {
    type Item = Event;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut raw = MaybeUninit::<unsafe_sys::yaml_event_t>::uninit();
        // SAFETY: the parser is initialized and has not failed (`done` is
        // set on the first failure and at the stream's end). A successful
        // parse initializes the event, which is read and then deleted once.
        unsafe {
            if unsafe_sys::yaml_parser_parse(&mut *self.parser, raw.as_mut_ptr()).fail {
                self.done = true;
                return Some(Event::Broken);
            }
            let event = raw.assume_init_mut();
            let line = event.start_mark.line as usize + 1;
            let read = match event.type_ {
                unsafe_sys::YAML_STREAM_END_EVENT => {
                    self.done = true;
                    Event::Other
                }
                unsafe_sys::YAML_DOCUMENT_START_EVENT => Event::DocumentStart,
                unsafe_sys::YAML_SEQUENCE_START_EVENT => Event::CollectionStart {
                    anchor: anchor(event.data.sequence_start.anchor),
                    line,
                    mapping: false,
                },
                unsafe_sys::YAML_MAPPING_START_EVENT => Event::CollectionStart {
                    anchor: anchor(event.data.mapping_start.anchor),
                    line,
                    mapping: true,
                },
                unsafe_sys::YAML_SEQUENCE_END_EVENT | unsafe_sys::YAML_MAPPING_END_EVENT => {
                    Event::CollectionEnd
                }
                unsafe_sys::YAML_SCALAR_EVENT => Event::Scalar {
                    anchor: anchor(event.data.scalar.anchor),
                    bytes: event.data.scalar.length as usize,
                    line,
                    text: scalar_text(event.data.scalar.value, event.data.scalar.length as usize),
                },
                unsafe_sys::YAML_ALIAS_EVENT => Event::Alias {
                    anchor: anchor(event.data.alias.anchor).unwrap_or_default(),
                    line,
                },
                _ => Event::Other,
            };
            unsafe_sys::yaml_event_delete(event);
            Some(read)
        }
    }
}

/// A scalar's bytes.
///
/// # Safety
/// `value` is null or points to `length` bytes libyaml owns.
unsafe fn scalar_text(value: *const u8, length: usize) -> Vec<u8> {
    if value.is_null() {
        return Vec::new();
    }
    // SAFETY: as the caller promises.
    unsafe { std::slice::from_raw_parts(value, length) }.to_vec()
}

/// The anchor's name, if the event has one.
///
/// # Safety
/// `name` is null or points to a NUL-terminated string libyaml owns.
unsafe fn anchor(name: *const u8) -> Option<Vec<u8>> {
    if name.is_null() {
        return None;
    }
    // SAFETY: as the caller promises.
    Some(unsafe { CStr::from_ptr(name.cast()) }.to_bytes().to_vec())
}

impl Drop for Events<'_> {
    fn drop(&mut self) {
        // SAFETY: the parser was initialized in `new` and is deleted once.
        unsafe { unsafe_sys::yaml_parser_delete(&mut *self.parser) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_name_anchors_aliases_and_lines() {
        let events: Vec<_> = Events::new(b"a: &x [1]\nb: *x\n").unwrap().collect();
        assert!(events.contains(&Event::CollectionStart {
            anchor: Some(b"x".to_vec()),
            line: 1,
            mapping: false,
        }));
        assert!(events.contains(&Event::Alias {
            anchor: b"x".to_vec(),
            line: 2
        }));
        assert!(events.contains(&Event::Scalar {
            anchor: None,
            bytes: 1,
            line: 1,
            text: b"a".to_vec(),
        }));
    }

    #[test]
    fn a_syntax_error_ends_the_stream() {
        let last = Events::new(b"a: 1\nb: [\n").unwrap().last();
        assert_eq!(last, Some(Event::Broken));
    }
}
