//! The error responses of each route family, from the code table.
//!
//! A route lists the codes it can give; their statuses come from `http::codes`, the table
//! the error renderer reads, so the document cannot give a code another status than the
//! server does. Each status's response narrows `details.message` to its codes.

use std::collections::BTreeMap;

use utoipa::IntoResponses;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr, ResponseBuilder, response::Response};

use super::schemas::API_ERROR;
use crate::code::Code;
use crate::http::codes;

/// Any route: ltigate's own failure, or a request over the time limit.
const ANY: &[Code] = &[Code::InternalError, Code::RequestTimeout];
/// A JSON body, read by `ApiJson`.
const JSON_BODY: &[Code] = &[
    Code::InvalidContentType,
    Code::BodyTooLarge,
    Code::InvalidBody,
];
/// A query string, read by `ApiQuery`.
const QUERY: &[Code] = &[Code::InvalidQuery];
/// `LTIK-AUTH-V2` (`api::LaunchAuth`).
const LTIK_AUTH: &[Code] = &[
    Code::MissingAuthorization,
    Code::InvalidAuthorization,
    Code::InvalidApiKey,
    Code::InvalidLtik,
    Code::PlatformInactive,
];
/// `LTIK-AUTH-V2` or `SERVICE-AUTH-V1` (`service_auth::ServiceAuth`).
const SERVICE_AUTH: &[Code] = &[Code::InvalidServiceKey];
/// `Bearer <API_KEY>` (`auth::AppKey`).
const APP_KEY: &[Code] = &[Code::MissingAuthorization, Code::InvalidApiKey];
/// `Bearer <ADMIN_KEY>` (`auth::Admin`).
const ADMIN: &[Code] = &[
    Code::AdminApiDisabled,
    Code::MissingAuthorization,
    Code::InvalidAdminKey,
    Code::AdminSignInRateLimited,
];
/// A call ltigate makes to the platform with its access token (`services::tokens`).
const PLATFORM_CALL: &[Code] = &[
    Code::ScopeNotGranted,
    Code::TokenRequestFailed,
    Code::TokenAnswerInvalid,
    Code::PlatformServiceError,
    Code::ServiceNotAvailable,
    Code::ServiceAnswerInvalid,
];
/// Paging (`?url=`, `limit`).
const PAGING: &[Code] = &[Code::InvalidParameter, Code::UrlNotAllowed];
/// A platform body from the administrator (`platform_input`).
const PLATFORM_INPUT: &[Code] = &[
    Code::MissingField,
    Code::InvalidField,
    Code::InvalidUrl,
    Code::InsecureUrl,
    Code::InvalidAuthConfig,
];

/// Declares one `IntoResponses` type per route family from lists of codes.
macro_rules! error_sets {
    ($($(#[$doc:meta])* $name:ident = [$($set:expr),* $(,)?];)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug)]
            pub struct $name;

            impl IntoResponses for $name {
                fn responses() -> BTreeMap<String, RefOr<Response>> {
                    error_responses(&[$($set),*])
                }
            }
        )*
    };
}

error_sets! {
    /// `GET /api/idtoken`.
    IdtokenErrors = [ANY, QUERY, LTIK_AUTH];
    /// The line item and score routes.
    AgsErrors = [
        ANY, QUERY, JSON_BODY, LTIK_AUTH, SERVICE_AUTH, PLATFORM_CALL, PAGING,
        &[Code::MissingField, Code::InvalidField],
    ];
    /// `GET /api/memberships`.
    MembershipsErrors = [ANY, QUERY, LTIK_AUTH, SERVICE_AUTH, PLATFORM_CALL, PAGING];
    /// The deep linking responses.
    DeepLinkingErrors = [
        ANY, JSON_BODY, LTIK_AUTH,
        &[Code::NotDeepLinkingLaunch, Code::DeepLinkingItemRefused],
    ];
    /// `GET /api/registrations/{id}`.
    RegistrationShowErrors = [
        ANY, APP_KEY, &[Code::RegistrationNotFound, Code::RegistrationGone],
    ];
    /// `POST /api/registrations/{id}/complete`.
    RegistrationCompleteErrors = [
        ANY, APP_KEY, &[Code::InvalidBody],
        &[
            Code::RegistrationNotFound,
            Code::RegistrationGone,
            Code::MessageNotSupported,
            Code::PlacementNotSupported,
            Code::PlatformRefusedRegistration,
            Code::RegistrationInvalid,
            Code::ChangeAlreadyPending,
            Code::ConfigurationUnavailable,
        ],
    ];
    /// An admin route on an existing platform.
    AdminPlatformErrors = [ANY, ADMIN, &[Code::PlatformNotFound]];
    /// An admin route that reads a platform body.
    AdminPlatformInputErrors = [
        ANY, ADMIN, JSON_BODY, PLATFORM_INPUT, &[Code::PlatformNotFound, Code::PlatformExists],
    ];
    /// `GET /admin/platforms`.
    AdminListErrors = [ANY, ADMIN, QUERY, &[Code::InvalidParameter]];
    /// Approving or rejecting a pending change.
    AdminChangeErrors = [ANY, ADMIN, &[Code::PlatformNotFound, Code::NoPendingChange]];
    /// `POST /admin/servicekeys/revoke`.
    AdminRevokeErrors = [ANY, ADMIN, JSON_BODY, &[Code::ServiceKeyNotFound]];
}

/// One response per status among `sets`, naming its codes.
fn error_responses(sets: &[&[Code]]) -> BTreeMap<String, RefOr<Response>> {
    let mut by_status: BTreeMap<u16, Vec<Code>> = BTreeMap::new();
    for &code in sets.iter().flat_map(|set| set.iter()) {
        let codes = by_status
            .entry(codes::public(code).status.as_u16())
            .or_default();
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    by_status
        .into_iter()
        .map(|(status, codes)| (status.to_string(), RefOr::T(response(&codes))))
        .collect()
}

fn response(codes: &[Code]) -> Response {
    let names: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
    let mut description = format!("`details.message` is one of {}.", names.join(", "));
    if codes.contains(&Code::PlatformServiceError) {
        // `ApiError::status`: a platform's client error (but 401) is passed through.
        description.push_str(
            " A platform's own 4xx answer (other than 401) keeps its status, with \
             `details.platformStatus` and `details.platformBody`.",
        );
    }
    let message = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes.iter().map(|c| c.as_str())))
        .build();
    let narrowed = ObjectBuilder::new()
        .property(
            "details",
            ObjectBuilder::new().property("message", message).build(),
        )
        .build();
    let schema = Schema::AllOf(
        AllOfBuilder::new()
            .item(Ref::from_schema_name(API_ERROR))
            .item(narrowed)
            .build(),
    );
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(schema))
                .build(),
        )
        .build()
}
