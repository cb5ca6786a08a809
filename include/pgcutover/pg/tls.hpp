#pragma once
// TLS failures at connect time, told apart from "server unreachable".
//
// libpq reports certificate and TLS problems as connection failures with its
// own text (no SQLSTATE). tls_hint() recognises them, so the user reads what
// is wrong with the certificate and which conninfo keywords fix it, not
// "check that the server is running".
#include <optional>
#include <string>

namespace pgcutover::pg {

// For a connect failure's message: what to check when it is a TLS or
// certificate problem, for the endpoint called `role` ("source"/"target");
// nullopt when it is not about TLS.
std::optional<std::string> tls_hint(const std::string &message, const std::string &role);

}  // namespace pgcutover::pg
