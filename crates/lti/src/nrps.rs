//! Names and Role Provisioning Services 2.0: the membership container a tool reads.
//!
//! [`MembershipContainer`] is the spec's document (NRPS 2.0 §2.2) with its members typed in
//! the spec's own (snake_case) names and every other member kept in `extensions`.
//! [`MembershipsQuery`] builds the filtered URL (§2.3, §3.2). No I/O: the caller sends the
//! request and follows `Link` headers with [`crate::paging`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

/// The membership container (§2.2).
pub const MEMBERSHIP_CONTAINER_MEDIA_TYPE: &str =
    "application/vnd.ims.lti-nrps.v2.membershipcontainer+json";
/// The scope that reads memberships (§3.6.1.1).
pub const SCOPE_CONTEXT_MEMBERSHIP_READONLY: &str =
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly";

/// One page of a context's memberships.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MembershipContainer {
    /// The URL the page was read from.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub context: Option<MembershipContext>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub members: Vec<Member>,
}

/// The context the memberships belong to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipContext {
    pub id: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
}

/// One member (§2.2), with the claims of the OIDC standard profile the platform shares.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub roles: Vec<String>,
    /// `Active`, `Inactive` or `Deleted`; absent means `Active` (§2.2).
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
    #[serde(default)]
    pub middle_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub picture: Option<String>,
    #[serde(default)]
    pub lis_person_sourcedid: Option<String>,
    /// Every other member (e.g. `message` for resource link memberships), as sent.
    #[serde(flatten)]
    pub extensions: Map<String, Value>,
}

impl Member {
    /// The status, `Active` when the platform left it out.
    pub fn status_or_active(&self) -> &str {
        self.status.as_deref().unwrap_or("Active")
    }
}

/// The filters of a membership GET, in the spec's parameter names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MembershipsQuery {
    /// `role` (§2.3.1): a full role URI or a short context role name.
    pub role: Option<String>,
    pub limit: Option<u32>,
    /// `rlid` (§3.2): the members of one resource link.
    pub rlid: Option<String>,
}

impl MembershipsQuery {
    /// The membership URL with these filters added to its own query.
    pub fn apply(&self, memberships: &Url) -> Url {
        let limit = self.limit.map(|l| l.to_string());
        crate::ags::with_params(
            memberships,
            [
                ("role", self.role.as_deref()),
                ("limit", limit.as_deref()),
                ("rlid", self.rlid.as_deref()),
            ],
        )
    }
}

fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests;
