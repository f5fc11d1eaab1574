//! The JSON schemas of the request and response bodies, as named components.

use utoipa::openapi::schema::{
    AdditionalProperties, AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, Type,
};
use utoipa::openapi::{ComponentsBuilder, Ref, RefOr};

use crate::config::JwtConfig;

/// The names of the component schemas, for `$ref`s.
pub(super) mod name {
    pub(crate) const OBTAIN_REQUEST: &str = "ObtainRequest";
    pub(crate) const REFRESH_REQUEST: &str = "RefreshRequest";
    pub(crate) const VERIFY_REQUEST: &str = "VerifyRequest";
    pub(crate) const BLACKLIST_REQUEST: &str = "BlacklistRequest";
    pub(crate) const TOKEN_PAIR: &str = "TokenPair";
    pub(crate) const REFRESHED: &str = "Refreshed";
    pub(crate) const EMPTY: &str = "Empty";
    pub(crate) const DETAIL: &str = "Detail";
    pub(crate) const FIELD_ERRORS: &str = "FieldErrors";
    pub(crate) const BAD_REQUEST: &str = "BadRequest";
    pub(crate) const TOKEN_MESSAGE: &str = "TokenMessage";
    pub(crate) const JWKS: &str = "JwkSet";
    pub(crate) const OPENID_CONFIGURATION: &str = "OpenIdConfiguration";
}

/// A `$ref` to the component schema `name`.
pub(super) fn reference(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

/// An object of string fields; `required` lists the names a valid body must carry.
fn strings(description: &str, fields: &[(&str, &str)], required: &[&str]) -> ObjectBuilder {
    object_of(description, fields, required, string)
}

/// A request body's text field: trimmed, it must not be blank.
fn text(description: &str) -> ObjectBuilder {
    string(description).min_length(Some(1)).pattern(Some(r"\S"))
}

/// An object of a request's text fields.
fn request(description: &str, fields: &[(&str, &str)], required: &[&str]) -> ObjectBuilder {
    object_of(description, fields, required, text)
}

fn object_of(
    description: &str,
    fields: &[(&str, &str)],
    required: &[&str],
    field_schema: fn(&str) -> ObjectBuilder,
) -> ObjectBuilder {
    let mut object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description));
    for (field, about) in fields {
        object = object.property(*field, field_schema(about));
    }
    for field in required {
        object = object.required(*field);
    }
    object
}

fn string_list() -> ArrayBuilder {
    ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String))
}

/// The component schemas; what a body requires follows `config`: in
/// cookie mode the refresh token may come from its cookie, and without
/// rotation a refresh answers no new refresh token.
pub(super) fn add(components: ComponentsBuilder, config: &JwtConfig) -> ComponentsBuilder {
    let cookies = config.cookies.enabled;
    let in_body = |field: &'static str| if cookies { vec![] } else { vec![field] };
    let refreshed_required = match (cookies, config.rotate_refresh_tokens) {
        (true, _) => vec![],
        (false, false) => vec!["access"],
        (false, true) => vec!["access", "refresh"],
    };
    components
        .schema(
            name::OBTAIN_REQUEST,
            request(
                "Credentials. String fields are trimmed; a number is taken as its text.",
                &[
                    ("username", "The user's name."),
                    ("password", "The user's password."),
                ],
                &["username", "password"],
            ),
        )
        .schema(
            name::REFRESH_REQUEST,
            request(
                "A refresh token to exchange for a new access token.",
                &[("refresh", "A refresh token.")],
                &in_body("refresh"),
            ),
        )
        .schema(
            name::VERIFY_REQUEST,
            request(
                "A token (access or refresh) to check.",
                &[("token", "The token.")],
                &["token"],
            ),
        )
        .schema(
            name::BLACKLIST_REQUEST,
            request(
                "The refresh token to log out.",
                &[("refresh", "A refresh token.")],
                &in_body("refresh"),
            ),
        )
        .schema(
            name::TOKEN_PAIR,
            strings(
                "A new pair of tokens.",
                &[
                    ("refresh", "The refresh token."),
                    ("access", "The access token."),
                ],
                &in_body("refresh")
                    .into_iter()
                    .chain(in_body("access"))
                    .collect::<Vec<_>>(),
            ),
        )
        .schema(
            name::REFRESHED,
            strings(
                "A new access token, and with rotation a new refresh token.",
                &[
                    ("access", "The new access token."),
                    ("refresh", "The successor refresh token (rotation)."),
                ],
                &refreshed_required,
            ),
        )
        .schema(
            name::EMPTY,
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some("An empty object: the request was done."))
                .max_properties(Some(0)),
        )
        .schema(
            name::TOKEN_MESSAGE,
            strings(
                "Why the access token was refused.",
                &[
                    ("token_class", "`AccessToken`."),
                    ("token_type", "`access`."),
                    ("message", "The token error, as on the token endpoints."),
                ],
                &["token_class", "token_type", "message"],
            ),
        )
        .schema(
            name::DETAIL,
            strings(
                "An error with a message and, for most, a stable code.",
                &[
                    ("detail", "What went wrong, in DRF's words."),
                    ("code", "A stable code, e.g. `token_not_valid`."),
                ],
                &["detail"],
            )
            .property(
                "messages",
                ArrayBuilder::new().items(reference(name::TOKEN_MESSAGE)),
            ),
        )
        .schema(
            name::FIELD_ERRORS,
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some(
                    "DRF's validation errors: a list of messages per field, \
                     `non_field_errors` for the body as a whole.",
                ))
                .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(Schema::Array(
                    string_list().build(),
                ))))),
        )
        .schema(
            name::BAD_REQUEST,
            AnyOfBuilder::new()
                .description(Some(
                    "Field errors, or `detail` for a body that is not JSON.",
                ))
                .item(reference(name::FIELD_ERRORS))
                .item(reference(name::DETAIL)),
        )
        .schema(name::JWKS, jwk_set())
        .schema(
            name::OPENID_CONFIGURATION,
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some("OpenID discovery: where the keys are."))
                .property("issuer", string("The `iss` of the tokens."))
                .property("jwks_uri", string("The URL of the JWK Set."))
                .property("id_token_signing_alg_values_supported", string_list())
                .required("issuer")
                .required("jwks_uri"),
        )
}

/// RFC 7517's JWK Set: the public keys, by `kid`.
fn jwk_set() -> ObjectBuilder {
    let key = strings(
        "A public key (RFC 7517); an HMAC secret is never published.",
        &[
            ("kty", "`RSA`, `EC` or `OKP`."),
            ("kid", "The key id tokens name in their header."),
            ("use", "`sig`."),
            ("alg", "The signing algorithm."),
            ("n", "RSA modulus."),
            ("e", "RSA exponent."),
            ("crv", "Curve."),
            ("x", "Public point, x."),
            ("y", "Public point, y."),
        ],
        &["kty"],
    );
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("The public keys that verify this server's tokens."))
        .property("keys", ArrayBuilder::new().items(key))
        .required("keys")
}
