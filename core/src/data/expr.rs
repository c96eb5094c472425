//! The boolean skeleton both filter languages share: `or`, `and`, `not` and
//! parentheses around leaves (comparisons) that each language parses itself.
//!
//! `expr := and ("or" and)*`, `and := not ("and" not)*`, `not := "not" not | atom`,
//! `atom := "(" expr ")" | leaf`.

use super::filter::{FilterError, Token, tokenize};

/// An expression tree with and/or/not nodes.
pub(crate) trait BoolExpr: Sized {
    /// Both hold.
    fn and(left: Self, right: Self) -> Self;
    /// Either holds.
    fn or(left: Self, right: Self) -> Self;
    /// Does not hold.
    fn not(inner: Self) -> Self;
}

/// Implements [`BoolExpr`] for an enum with `And(Box, Box)`, `Or(Box, Box)` and
/// `Not(Box)` variants.
macro_rules! bool_expr_via_variants {
    ($t:ty) => {
        impl $crate::data::expr::BoolExpr for $t {
            fn and(left: Self, right: Self) -> Self {
                Self::And(Box::new(left), Box::new(right))
            }
            fn or(left: Self, right: Self) -> Self {
                Self::Or(Box::new(left), Box::new(right))
            }
            fn not(inner: Self) -> Self {
                Self::Not(Box::new(inner))
            }
        }
    };
}
pub(crate) use bool_expr_via_variants;

/// The tokens of an expression and the parser's place in them.
pub(crate) struct Cursor {
    /// Tokens with their character offsets.
    pub(crate) tokens: Vec<(usize, Token)>,
    /// Index of the next token.
    pub(crate) pos: usize,
    /// Character length of the input, the offset reported at its end.
    end: usize,
}

impl Cursor {
    /// The next token.
    pub(crate) fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(_, t)| t)
    }

    /// Character offset of the next token (the input's end after the last).
    pub(crate) fn offset(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |(p, _)| *p)
    }

    /// Whether the next token is the keyword `word` (any case).
    pub(crate) fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Ident(w)) if w.eq_ignore_ascii_case(word))
    }

    /// An error at the next token.
    pub(crate) fn error(&self, message: impl Into<String>) -> FilterError {
        FilterError {
            position: self.offset(),
            message: message.into(),
        }
    }
}

/// Parses `input` as a whole expression; `leaf` parses one comparison at the cursor
/// (it is called on any token that does not open a parenthesis).
pub(crate) fn parse_bool<T: BoolExpr>(
    input: &str,
    leaf: &mut dyn FnMut(&mut Cursor) -> Result<T, FilterError>,
) -> Result<T, FilterError> {
    let tokens = tokenize(input)?;
    let mut cursor = Cursor {
        tokens,
        pos: 0,
        end: input.chars().count(),
    };
    if cursor.tokens.is_empty() {
        return Err(cursor.error("the filter is empty"));
    }
    let expr = or(&mut cursor, leaf)?;
    if cursor.pos < cursor.tokens.len() {
        return Err(cursor.error("expected 'and', 'or' or the end of the filter"));
    }
    Ok(expr)
}

type Leaf<'a, T> = dyn FnMut(&mut Cursor) -> Result<T, FilterError> + 'a;

fn or<T: BoolExpr>(c: &mut Cursor, leaf: &mut Leaf<'_, T>) -> Result<T, FilterError> {
    let mut left = and(c, leaf)?;
    while c.keyword("or") {
        c.pos += 1;
        left = T::or(left, and(c, leaf)?);
    }
    Ok(left)
}

fn and<T: BoolExpr>(c: &mut Cursor, leaf: &mut Leaf<'_, T>) -> Result<T, FilterError> {
    let mut left = not(c, leaf)?;
    while c.keyword("and") {
        c.pos += 1;
        left = T::and(left, not(c, leaf)?);
    }
    Ok(left)
}

fn not<T: BoolExpr>(c: &mut Cursor, leaf: &mut Leaf<'_, T>) -> Result<T, FilterError> {
    if c.keyword("not") {
        c.pos += 1;
        return Ok(T::not(not(c, leaf)?));
    }
    atom(c, leaf)
}

fn atom<T: BoolExpr>(c: &mut Cursor, leaf: &mut Leaf<'_, T>) -> Result<T, FilterError> {
    match c.peek() {
        Some(Token::LParen) => {
            c.pos += 1;
            let inner = or(c, leaf)?;
            if !matches!(c.peek(), Some(Token::RParen)) {
                return Err(c.error("expected ')'"));
            }
            c.pos += 1;
            Ok(inner)
        }
        Some(_) => leaf(c),
        None => Err(c.error("the filter ends too early")),
    }
}
