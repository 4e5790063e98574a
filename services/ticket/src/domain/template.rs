//! Template placeholders (template.proto): `{{name}}`, spaces inside the braces allowed. An
//! unknown name is refused when the template is saved; values are inserted as text, and the
//! HTML rendering escapes the template and the values alike, so no value can add markup.

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 6] = [
    "requester.name",
    "requester.email",
    "ticket.number",
    "ticket.subject",
    "agent.name",
    "group.name",
];

/// The values placeholders are filled with; a missing one renders as an empty string.
#[derive(Debug, Clone, Default)]
pub struct Values {
    pub requester_name: String,
    pub requester_email: String,
    /// The ticket number, rendered with its `#`.
    pub ticket_number: i64,
    pub ticket_subject: String,
    pub agent_name: String,
    pub group_name: String,
}

impl Values {
    fn get(&self, name: &str) -> String {
        match name {
            "requester.name" => self.requester_name.clone(),
            "requester.email" => self.requester_email.clone(),
            "ticket.number" if self.ticket_number > 0 => format!("#{}", self.ticket_number),
            "ticket.subject" => self.ticket_subject.clone(),
            "agent.name" => self.agent_name.clone(),
            "group.name" => self.group_name.clone(),
            _ => String::new(),
        }
    }
}

/// One piece of a template: literal text or a placeholder's name.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Placeholder(&'a str),
}

/// Splits `text` into text and placeholders. `{{` without a closing `}}` is text.
fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open + 2..].find("}}") else {
            break;
        };
        if open > 0 {
            pieces.push(Piece::Text(&rest[..open]));
        }
        pieces.push(Piece::Placeholder(rest[open + 2..open + 2 + close].trim()));
        rest = &rest[open + 2 + close + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    pieces
}

/// The first placeholder of `text` that is not one of [`PLACEHOLDERS`].
pub fn unknown_placeholder(text: &str) -> Option<String> {
    pieces(text).into_iter().find_map(|piece| match piece {
        Piece::Placeholder(name) if !PLACEHOLDERS.contains(&name) => Some(name.to_owned()),
        _ => None,
    })
}

/// `text` with its placeholders filled, as plain text.
pub fn render(text: &str, values: &Values) -> String {
    pieces(text)
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(text) => text.to_owned(),
            Piece::Placeholder(name) => values.get(name),
        })
        .collect()
}

/// `text` with its placeholders filled, as HTML: every character of the template and of the
/// values escaped, line breaks as `<br>`.
pub fn render_html(text: &str, values: &Values) -> String {
    escape_html(&render(text, values)).replace('\n', "<br>\n")
}

pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values {
        Values {
            requester_name: "김민수".into(),
            ticket_number: 1042,
            agent_name: "<b>이상담</b>".into(),
            ..Default::default()
        }
    }

    #[test]
    fn placeholders_fill_with_spaces_inside_braces_and_missing_values_empty() {
        let text = "{{requester.name}}님, 문의 {{ ticket.number }} 답변드립니다. {{group.name}}끝";
        assert_eq!(
            render(text, &values()),
            "김민수님, 문의 #1042 답변드립니다. 끝"
        );
    }

    #[test]
    fn unknown_placeholders_are_named_and_unclosed_braces_are_text() {
        assert_eq!(
            unknown_placeholder("안녕 {{requester.name}} {{ ticket.secret }}").as_deref(),
            Some("ticket.secret")
        );
        assert_eq!(unknown_placeholder("{{ not closed"), None);
        assert_eq!(render("{{ not closed", &values()), "{{ not closed");
    }

    #[test]
    fn html_rendering_escapes_values_and_template_alike() {
        let html = render_html("<i>{{agent.name}}</i>\n드림", &values());
        assert_eq!(
            html,
            "&lt;i&gt;&lt;b&gt;이상담&lt;/b&gt;&lt;/i&gt;<br>\n드림"
        );
    }
}
