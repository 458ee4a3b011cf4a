//! Checks an uploaded SVG before it is stored and served to every viewer.
//!
//! An allow-list of drawing elements; no scripts, no event handlers, no
//! references outside the document (only `#fragment` links and `url(#id)`),
//! no DTDs (entity tricks) and no processing instructions (stylesheets).

/// Largest SVG accepted.
pub const MAX_SVG_BYTES: usize = 64 * 1024;

const SVG_NS: &str = "http://www.w3.org/2000/svg";

const ALLOWED_ELEMENTS: &[&str] = &[
    "svg",
    "g",
    "defs",
    "title",
    "desc",
    "path",
    "circle",
    "ellipse",
    "rect",
    "line",
    "polyline",
    "polygon",
    "linearGradient",
    "radialGradient",
    "stop",
    "clipPath",
    "mask",
    "symbol",
    "use",
    "text",
    "tspan",
];

/// Why an SVG was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SvgError {
    #[error("SVG is larger than {} KiB", MAX_SVG_BYTES / 1024)]
    TooLarge,
    #[error("SVG is not well-formed XML: {0}")]
    Malformed(String),
    #[error("SVG must not contain a DOCTYPE or entity declarations")]
    Doctype,
    #[error("root element must be <svg> in the SVG namespace")]
    NotSvg,
    #[error("SVG contains a script")]
    Script,
    #[error("SVG contains an event handler attribute ({0})")]
    EventHandler(String),
    #[error("SVG contains an external reference ({0})")]
    ExternalReference(String),
    #[error("SVG element <{0}> is not allowed")]
    Element(String),
    #[error("SVG contains a processing instruction")]
    ProcessingInstruction,
}

/// `Ok` if `svg` is safe to serve.
pub fn validate_svg(svg: &str) -> Result<(), SvgError> {
    if svg.len() > MAX_SVG_BYTES {
        return Err(SvgError::TooLarge);
    }
    let lower = svg.to_ascii_lowercase();
    if lower.contains("<!doctype") || lower.contains("<!entity") {
        return Err(SvgError::Doctype);
    }
    let doc = roxmltree::Document::parse(svg).map_err(|e| SvgError::Malformed(e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "svg" || root.tag_name().namespace() != Some(SVG_NS) {
        return Err(SvgError::NotSvg);
    }
    for node in doc.descendants() {
        if node.is_pi() {
            return Err(SvgError::ProcessingInstruction);
        }
        if !node.is_element() {
            continue;
        }
        let name = node.tag_name().name();
        if name.eq_ignore_ascii_case("script") {
            return Err(SvgError::Script);
        }
        if node.tag_name().namespace() != Some(SVG_NS) || !ALLOWED_ELEMENTS.contains(&name) {
            return Err(SvgError::Element(name.to_owned()));
        }
        for attr in node.attributes() {
            check_attribute(attr.name(), attr.value())?;
        }
    }
    Ok(())
}

fn check_attribute(name: &str, value: &str) -> Result<(), SvgError> {
    if name.len() > 2 && name[..2].eq_ignore_ascii_case("on") {
        return Err(SvgError::EventHandler(name.to_owned()));
    }
    let value_lower = value.to_ascii_lowercase();
    if name == "href" && !value.trim_start().starts_with('#') {
        return Err(SvgError::ExternalReference(truncate(value)));
    }
    if value_lower.contains("javascript:")
        || value_lower.contains("@import")
        || value_lower.contains("expression(")
    {
        return Err(SvgError::ExternalReference(truncate(value)));
    }
    // Every url(...) must point inside the document.
    let mut rest = value_lower.as_str();
    while let Some(pos) = rest.find("url(") {
        let target = rest[pos + 4..].trim_start().trim_start_matches(['\'', '"']);
        if !target.starts_with('#') {
            return Err(SvgError::ExternalReference(truncate(value)));
        }
        rest = &rest[pos + 4..];
    }
    Ok(())
}

fn truncate(s: &str) -> String {
    s.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svg(body: &str) -> String {
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">{body}</svg>"#
        )
    }

    #[test]
    fn plain_drawings_pass() {
        let ok = svg(
            r##"<defs><radialGradient id="g"><stop offset="0" stop-color="#ff0"/></radialGradient></defs>
            <circle cx="5" cy="5" r="4" fill="url(#g)" style="stroke: url('#g')"/><use href="#g"/>"##,
        );
        assert_eq!(validate_svg(&ok), Ok(()));
    }

    #[test]
    fn dangerous_content_is_refused() {
        assert_eq!(
            validate_svg(&svg("<script>alert(1)</script>")),
            Err(SvgError::Script)
        );
        assert!(matches!(
            validate_svg(&svg(r#"<circle r="1" onload="x()"/>"#)),
            Err(SvgError::EventHandler(_))
        ));
        assert!(matches!(
            validate_svg(&svg(r#"<circle r="1" ONCLICK="x()"/>"#)),
            Err(SvgError::EventHandler(_))
        ));
        assert!(matches!(
            validate_svg(&svg(r#"<use href="https://evil.test/x.svg#a"/>"#)),
            Err(SvgError::ExternalReference(_))
        ));
        assert!(matches!(
            validate_svg(&svg(r#"<use xlink:href="data:image/svg+xml,..."/>"#)),
            Err(SvgError::ExternalReference(_))
        ));
        assert!(matches!(
            validate_svg(&svg(r#"<rect fill="url(https://evil.test/p)"/>"#)),
            Err(SvgError::ExternalReference(_))
        ));
        assert!(matches!(
            validate_svg(&svg(r#"<rect style="fill: url( 'http://x' )"/>"#)),
            Err(SvgError::ExternalReference(_))
        ));
        assert!(matches!(
            validate_svg(&svg(r#"<image href="x.png"/>"#)),
            Err(SvgError::ExternalReference(_)) | Err(SvgError::Element(_))
        ));
        assert!(matches!(
            validate_svg(&svg("<foreignObject/>")),
            Err(SvgError::Element(_))
        ));
        assert!(matches!(
            validate_svg(&svg("<style>@import url(x)</style>")),
            Err(SvgError::Element(_))
        ));
        assert!(validate_svg(&svg(r#"<a href="javascript:alert(1)"/>"#)).is_err());
        assert_eq!(
            validate_svg(
                r#"<!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg"/>"#
            ),
            Err(SvgError::Doctype)
        );
        assert_eq!(
            validate_svg(
                r#"<?xml-stylesheet href="http://x"?><svg xmlns="http://www.w3.org/2000/svg"/>"#
            ),
            Err(SvgError::ProcessingInstruction)
        );
        assert_eq!(validate_svg("<html/>"), Err(SvgError::NotSvg));
        assert!(matches!(validate_svg("<svg"), Err(SvgError::Malformed(_))));
        assert_eq!(
            validate_svg(&" ".repeat(MAX_SVG_BYTES + 1)),
            Err(SvgError::TooLarge)
        );
    }
}
