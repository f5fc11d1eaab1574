//! The contract's bodies, statuses and headers, error by error.
use super::*;
use http_body_util::BodyExt;

async fn body_of(error: ApiError) -> Value {
    let bytes = error
        .into_response()
        .into_body()
        .collect()
        .await
        .expect("full body")
        .to_bytes();
    serde_json::from_slice(&bytes).expect("json body")
}

#[tokio::test]
async fn token_endpoint_shape() {
    for (error, message) in [
        (TokenError::Invalid, "Token is invalid"),
        (TokenError::Expired, "Token is expired"),
        (TokenError::NoId, "Token has no id"),
        (TokenError::NoType, "Token has no type"),
        (TokenError::WrongType, "Token has wrong type"),
        (TokenError::NoExp, "Token has no 'exp' claim"),
        (TokenError::Blacklisted, "Token is blacklisted"),
    ] {
        assert_eq!(
            body_of(ApiError::Token(error)).await,
            json!({"detail": message, "code": "token_not_valid"})
        );
    }
}

#[tokio::test]
async fn wrapped_shape_for_protected_resources() {
    assert_eq!(
        body_of(ApiError::AccessTokenRefused(TokenError::Expired)).await,
        json!({"detail":"Given token not valid for any token type","code":"token_not_valid",
               "messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is expired"}]})
    );
}

#[test]
fn every_401_carries_www_authenticate_and_others_do_not() {
    let all = [
        ApiError::Token(TokenError::Invalid),
        ApiError::AccessTokenRefused(TokenError::Invalid),
        ApiError::VerifyBlacklisted,
        ApiError::NoActiveAccount,
        ApiError::NoActiveAccountForToken,
        ApiError::CredentialsNotProvided,
        ApiError::BadAuthorizationHeader,
        ApiError::UserInactive,
        ApiError::UserNotFound,
        ApiError::NoUserIdentification,
        ApiError::Fields(vec![("refresh", "This field is required.")]),
        ApiError::JsonParse("x".into()),
        ApiError::UnsupportedMediaType("text/plain".into()),
        ApiError::MethodNotAllowed(Method::GET),
        ApiError::PayloadTooLarge,
        ApiError::StoreUnavailable,
        ApiError::ServiceUnavailable,
    ];
    for error in all {
        let response = error.into_response();
        let has_header = response.headers().get(WWW_AUTHENTICATE).is_some();
        assert_eq!(has_header, response.status() == 401, "{error:?}");
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    }
}

#[tokio::test]
async fn other_bodies() {
    assert_eq!(
        body_of(ApiError::MethodNotAllowed(Method::GET)).await,
        json!({"detail": "Method \"GET\" not allowed."})
    );
    assert_eq!(
        body_of(ApiError::UnsupportedMediaType("text/plain".into())).await,
        json!({"detail": "Unsupported media type \"text/plain\" in request."})
    );
    assert_eq!(
        body_of(ApiError::VerifyBlacklisted).await,
        json!({"non_field_errors": ["Token is blacklisted"]})
    );
    assert_eq!(
        body_of(ApiError::StoreUnavailable).await,
        json!({"detail":"Token store unavailable, try again later.","code":"store_unavailable"})
    );
    assert_eq!(
        body_of(ApiError::ServiceUnavailable).await,
        json!({"detail":"Service temporarily unavailable, try again later.","code":"service_unavailable"})
    );
    assert_eq!(
        ApiError::ServiceUnavailable.into_response().headers()[RETRY_AFTER],
        "1"
    );
    assert_eq!(
        body_of(ApiError::Internal).await,
        json!({"detail":"A server error occurred.","code":"server_error"})
    );
    assert_eq!(
        body_of(ApiError::NoActiveAccount).await,
        json!({"detail":"No active account found with the given credentials"})
    );
    assert_eq!(
        body_of(ApiError::BadAuthorizationHeader).await,
        json!({"detail":"Authorization header must contain two space-delimited values","code":"bad_authorization_header"})
    );
    assert_eq!(
        body_of(ApiError::Fields(vec![
            ("username", "This field is required."),
            ("password", "This field may not be blank.")
        ]))
        .await,
        json!({"username":["This field is required."],"password":["This field may not be blank."]})
    );
}
