//! Reading a request's cookies: the value of one by name, over every
//! `Cookie` header (HTTP/2 clients may send several).

use axum::http::{header, HeaderMap};

/// The value of cookie `name`, if the request has it.
pub fn value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then_some(value)
        })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn finds_a_cookie_in_any_header() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; lang=ja"));
        headers.append(header::COOKIE, HeaderValue::from_static("tz=Asia%2FTokyo"));
        assert_eq!(value(&headers, "lang"), Some("ja"));
        assert_eq!(value(&headers, "tz"), Some("Asia%2FTokyo"));
        assert_eq!(value(&headers, "lan"), None);
    }
}
