//! `Content-Encoding` of request bodies: none (or `identity`) and `gzip`, as
//! the OpenLineage clients send. A gzip body is decompressed within the same
//! limit as a plain one, so a small bomb is refused with 413 before it grows.

use super::error::{ApiCode, ApiError};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use std::io::Read;

/// `body` as sent, or decompressed when it says `Content-Encoding: gzip`:
/// 413 when it decompresses to more than `max` bytes (`whose` names the
/// limit), 400 when it is no gzip, 415 for any other encoding.
pub(super) fn decoded(
    headers: &HeaderMap,
    body: Bytes,
    max: usize,
    whose: &str,
) -> Result<Bytes, ApiError> {
    let mut encodings = headers.get_all(header::CONTENT_ENCODING).iter();
    let encoding = match (encodings.next(), encodings.next()) {
        (None, _) => return Ok(body),
        (Some(one), None) => one.to_str().unwrap_or("").trim().to_ascii_lowercase(),
        (Some(_), Some(_)) => String::from("(several)"),
    };
    match encoding.as_str() {
        "" | "identity" => Ok(body),
        "gzip" | "x-gzip" => gunzip(&body, max, whose),
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiCode::UnsupportedMediaType,
            format!("send Content-Encoding gzip or none, not {other:?}"),
        )),
    }
}

fn gunzip(body: &[u8], max: usize, whose: &str) -> Result<Bytes, ApiError> {
    let mut out = Vec::new();
    // One byte more than allowed tells "over" from "exactly at" the limit.
    let read = flate2::read::MultiGzDecoder::new(body)
        .take(max as u64 + 1)
        .read_to_end(&mut out);
    if let Err(e) = read {
        return Err(ApiError::bad_request(
            ApiCode::InvalidBody,
            format!("the body is not valid gzip: {e}"),
        ));
    }
    if out.len() > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ApiCode::TooLarge,
            format!("the gzip body decompresses to more than {whose} limit of {max} bytes"),
        ));
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Bytes {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        Bytes::from(encoder.finish().unwrap())
    }

    fn headers(encoding: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_ENCODING, encoding.parse().unwrap());
        h
    }

    #[test]
    fn gzip_is_decompressed_up_to_the_limit_and_refused_past_it() {
        let body = gzip(&[b'x'; 100]);
        assert_eq!(
            decoded(&headers("gzip"), body.clone(), 100, "the")
                .unwrap()
                .len(),
            100
        );
        let err = decoded(&headers("GZIP"), body, 99, "tenant acme's").unwrap_err();
        assert_eq!(
            (err.status, err.error),
            (StatusCode::PAYLOAD_TOO_LARGE, ApiCode::TooLarge)
        );
        assert_eq!(
            err.detail,
            "the gzip body decompresses to more than tenant acme's limit of 99 bytes"
        );
    }

    #[test]
    fn other_encodings_are_415_and_broken_gzip_is_400() {
        for encoding in ["br", "deflate", "zstd"] {
            let err = decoded(&headers(encoding), Bytes::from_static(b"x"), 10, "the").unwrap_err();
            assert_eq!(err.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{encoding}");
            assert!(err.detail.contains(encoding), "{}", err.detail);
        }
        let err = decoded(&headers("gzip"), Bytes::from_static(b"{}"), 10, "the").unwrap_err();
        assert_eq!(
            (err.status, err.error),
            (StatusCode::BAD_REQUEST, ApiCode::InvalidBody)
        );
        let plain = decoded(&HeaderMap::new(), Bytes::from_static(b"{}"), 10, "the");
        assert_eq!(plain.unwrap(), Bytes::from_static(b"{}"));
    }
}
