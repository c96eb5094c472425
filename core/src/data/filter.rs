//! Row filters typed by the user: `age > 30 and city == "Oslo"`.
//!
//! Grammar (case-insensitive keywords):
//! `expr := and ("or" and)*`, `and := not ("and" not)*`, `not := "not" not | atom`,
//! `atom := "(" expr ")" | column op literal | column "is" ["not"] "null"`,
//! `op := == | = | != | < | <= | > | >=`; a column is a bare name or `` `any name` ``;
//! literals are numbers, "strings" or 'strings', true, false.

use polars::prelude::*;
use rayon::prelude::*;

use super::expr::{Cursor, parse_bool};

/// A filter that could not be understood, with the character offset of the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} (at character {position})")]
pub struct FilterError {
    /// 0-based character offset into the expression.
    pub position: usize,
    /// What is wrong.
    pub message: String,
}

fn error(position: usize, message: impl Into<String>) -> FilterError {
    FilterError {
        position,
        message: message.into(),
    }
}

/// A literal value in a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A number.
    Number(f64),
    /// A string.
    Text(String),
    /// true or false.
    Bool(bool),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `==` or `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Both hold.
    And(Box<Filter>, Box<Filter>),
    /// Either holds.
    Or(Box<Filter>, Box<Filter>),
    /// Does not hold.
    Not(Box<Filter>),
    /// `column op literal`.
    Compare {
        /// Column name.
        column: String,
        /// Operator.
        op: Op,
        /// Right-hand side.
        value: Literal,
    },
    /// `column is null` (or `is not null` when `negated`).
    IsNull {
        /// Column name.
        column: String,
        /// `is not null`.
        negated: bool,
    },
}

/// A token of Kiln's small expression languages (row filters here, run filters in
/// `crate::tracking::filter`), with the character offset it starts at.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    /// A name (bare or in backticks); keywords too.
    Ident(String),
    /// A quoted string.
    Str(String),
    /// A number.
    Num(f64),
    /// A comparison.
    Op(Op),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `,`
    Comma,
}

/// Splits an expression into tokens with their character offsets.
pub(crate) fn tokenize(input: &str) -> Result<Vec<(usize, Token)>, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                tokens.push((start, Token::LParen));
                i += 1;
            }
            ')' => {
                tokens.push((start, Token::RParen));
                i += 1;
            }
            ',' => {
                tokens.push((start, Token::Comma));
                i += 1;
            }
            '=' | '!' | '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('=', Some('=')) => (Op::Eq, 2),
                    ('=', _) => (Op::Eq, 1),
                    ('!', Some('=')) => (Op::Ne, 2),
                    ('<', Some('=')) => (Op::Le, 2),
                    ('<', Some('>')) => (Op::Ne, 2),
                    ('<', _) => (Op::Lt, 1),
                    ('>', Some('=')) => (Op::Ge, 2),
                    ('>', _) => (Op::Gt, 1),
                    _ => {
                        return Err(error(
                            start,
                            "'!' must be followed by '=' (use 'not' to negate)",
                        ));
                    }
                };
                tokens.push((start, Token::Op(op)));
                i += len;
            }
            '"' | '\'' | '`' => {
                let quote = c;
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(error(start, format!("missing closing {quote}"))),
                        Some(&ch) if ch == quote => {
                            i += 1;
                            break;
                        }
                        Some('\\') if chars.get(i + 1).is_some() => {
                            text.push(chars[i + 1]);
                            i += 2;
                        }
                        Some(&ch) => {
                            text.push(ch);
                            i += 1;
                        }
                    }
                }
                tokens.push((
                    start,
                    if quote == '`' {
                        Token::Ident(text)
                    } else {
                        Token::Str(text)
                    },
                ));
            }
            c if c.is_ascii_digit()
                || ((c == '-' || c == '.')
                    && chars
                        .get(i + 1)
                        .is_some_and(|n| n.is_ascii_digit() || *n == '.')) =>
            {
                let mut end = i + 1;
                while end < chars.len()
                    && (chars[end].is_ascii_alphanumeric() || matches!(chars[end], '.' | '+' | '-'))
                    && (!matches!(chars[end], '+' | '-') || matches!(chars[end - 1], 'e' | 'E'))
                {
                    end += 1;
                }
                let text: String = chars[i..end].iter().collect();
                let number = text
                    .parse::<f64>()
                    .map_err(|_| error(start, format!("'{text}' is not a number")))?;
                tokens.push((start, Token::Num(number)));
                i = end;
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut end = i + 1;
                while end < chars.len()
                    && (chars[end].is_alphanumeric() || matches!(chars[end], '_' | '.'))
                {
                    end += 1;
                }
                tokens.push((start, Token::Ident(chars[i..end].iter().collect())));
                i = end;
            }
            other => return Err(error(start, format!("unexpected character '{other}'"))),
        }
    }
    Ok(tokens)
}

crate::data::expr::bool_expr_via_variants!(Filter);

/// One comparison: `column op literal` or `column is [not] null`.
fn comparison(c: &mut Cursor) -> Result<Filter, FilterError> {
    match c.tokens.get(c.pos).cloned() {
        Some((_, Token::Ident(column))) => {
            c.pos += 1;
            if c.keyword("is") {
                c.pos += 1;
                let negated = c.keyword("not");
                if negated {
                    c.pos += 1;
                }
                if !c.keyword("null") {
                    return Err(error(c.offset(), "expected 'null' after 'is'"));
                }
                c.pos += 1;
                return Ok(Filter::IsNull { column, negated });
            }
            let op = match c.peek() {
                Some(Token::Op(op)) => *op,
                _ => {
                    return Err(error(
                        c.offset(),
                        format!("expected a comparison (==, !=, <, <=, >, >=) after '{column}'"),
                    ));
                }
            };
            c.pos += 1;
            let value_at = c.offset();
            let value = match c.tokens.get(c.pos).cloned() {
                Some((_, Token::Num(n))) => Literal::Number(n),
                Some((_, Token::Str(s))) => Literal::Text(s),
                Some((_, Token::Ident(w))) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
                Some((_, Token::Ident(w))) if w.eq_ignore_ascii_case("false") => {
                    Literal::Bool(false)
                }
                Some((_, Token::Ident(w))) => {
                    return Err(error(
                        value_at,
                        format!("'{w}' is not a value: put text in quotes (\"{w}\")"),
                    ));
                }
                _ => {
                    return Err(error(
                        value_at,
                        "expected a value (a number, \"text\", true or false)",
                    ));
                }
            };
            c.pos += 1;
            Ok(Filter::Compare { column, op, value })
        }
        _ => Err(c.error("expected a column name, 'not' or '('")),
    }
}

/// Parses a filter expression.
pub fn parse_filter(input: &str) -> Result<Filter, FilterError> {
    parse_bool(input, &mut comparison)
}

/// Row indices of `frame` where `filter` holds, in table order.
pub fn filter_rows(frame: &DataFrame, filter: &Filter) -> Result<Vec<u32>, FilterError> {
    let mask = evaluate(frame, filter)?;
    Ok(mask
        .iter()
        .enumerate()
        .filter_map(|(i, &keep)| keep.then_some(i as u32))
        .collect())
}

fn column<'a>(frame: &'a DataFrame, name: &str) -> Result<&'a Series, FilterError> {
    frame
        .column(name)
        .map(|c| c.as_materialized_series())
        .map_err(|_| {
            let names: Vec<String> = frame
                .get_column_names()
                .iter()
                .map(|n| n.to_string())
                .collect();
            error(
                0,
                format!("no column named '{name}' (columns: {})", names.join(", ")),
            )
        })
}

fn compare<T: PartialOrd>(a: T, op: Op, b: T) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Ne => a != b,
        Op::Lt => a < b,
        Op::Le => a <= b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
    }
}

fn evaluate(frame: &DataFrame, filter: &Filter) -> Result<Vec<bool>, FilterError> {
    match filter {
        Filter::And(a, b) => {
            let (a, b) = (evaluate(frame, a)?, evaluate(frame, b)?);
            Ok(a.into_par_iter().zip(b).map(|(x, y)| x && y).collect())
        }
        Filter::Or(a, b) => {
            let (a, b) = (evaluate(frame, a)?, evaluate(frame, b)?);
            Ok(a.into_par_iter().zip(b).map(|(x, y)| x || y).collect())
        }
        Filter::Not(a) => Ok(evaluate(frame, a)?.into_iter().map(|x| !x).collect()),
        Filter::IsNull {
            column: name,
            negated,
        } => {
            let series = column(frame, name)?;
            Ok(series
                .is_null()
                .iter()
                .map(|v| v.unwrap_or(false) != *negated)
                .collect())
        }
        Filter::Compare {
            column: name,
            op,
            value,
        } => {
            let series = column(frame, name)?;
            let dtype = series.dtype();
            let type_error = |what: &str| {
                error(
                    0,
                    format!(
                        "column '{name}' holds {dtype} values, which cannot be compared with {what}"
                    ),
                )
            };
            match value {
                Literal::Number(n) => {
                    if !dtype.is_primitive_numeric() {
                        return Err(type_error("a number"));
                    }
                    let floats = series
                        .cast(&DataType::Float64)
                        .map_err(|e| error(0, e.to_string()))?;
                    let ca = floats.f64().map_err(|e| error(0, e.to_string()))?;
                    // Missing values never match a comparison (as in SQL).
                    Ok(ca
                        .iter()
                        .map(|v| v.is_some_and(|v| compare(v, *op, *n)))
                        .collect())
                }
                Literal::Text(s) => {
                    let Ok(ca) = series.str() else {
                        return Err(type_error("text"));
                    };
                    Ok(ca
                        .iter()
                        .map(|v| v.is_some_and(|v| compare(v, *op, s.as_str())))
                        .collect())
                }
                Literal::Bool(b) => {
                    let Ok(ca) = series.bool() else {
                        return Err(type_error("true/false"));
                    };
                    Ok(ca
                        .iter()
                        .map(|v| v.is_some_and(|v| compare(v, *op, *b)))
                        .collect())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> DataFrame {
        df!(
            "age" => [25i64, 35, 45, 31],
            "city" => [Some("Oslo"), Some("Oslo"), Some("Bergen"), None],
            "member" => [true, false, true, true],
        )
        .expect("frame")
    }

    fn rows(expr: &str) -> Vec<u32> {
        filter_rows(&frame(), &parse_filter(expr).expect("parses")).expect("evaluates")
    }

    #[test]
    fn comparisons_combine_with_and_or_not_and_parentheses() {
        assert_eq!(rows("age > 30 and city == \"Oslo\""), vec![1]);
        assert_eq!(rows("age > 40 or city = 'Oslo'"), vec![0, 1, 2]);
        assert_eq!(rows("not (age > 30)"), vec![0]);
        assert_eq!(rows("age < 30 or age > 40 and member == true"), vec![0, 2]);
        assert_eq!(rows("city is null"), vec![3]);
        assert_eq!(rows("city is not null and member = false"), vec![1]);
        assert_eq!(rows("`age` >= 35"), vec![1, 2]);
    }

    #[test]
    fn bad_expressions_point_at_the_problem() {
        let err = parse_filter("age > ").expect_err("no value");
        assert_eq!(err.position, 6);
        let err = parse_filter("city == Oslo").expect_err("unquoted");
        assert!(err.message.contains("put text in quotes"), "{err}");
        assert_eq!(err.position, 8);
        let err = parse_filter("age > 3 age").expect_err("junk");
        assert!(err.message.contains("expected 'and', 'or'"), "{err}");
        let err = parse_filter("(age > 3").expect_err("paren");
        assert!(err.message.contains("')'"), "{err}");
    }

    #[test]
    fn unknown_columns_and_type_mismatches_are_explained() {
        let f = parse_filter("height > 3").expect("parses");
        let err = filter_rows(&frame(), &f).expect_err("unknown");
        assert!(err.message.contains("no column named 'height'"), "{err}");
        let f = parse_filter("city > 3").expect("parses");
        let err = filter_rows(&frame(), &f).expect_err("type");
        assert!(
            err.message.contains("cannot be compared with a number"),
            "{err}"
        );
    }
}
