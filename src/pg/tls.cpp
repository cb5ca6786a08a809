// TLS connect failures (see tls.hpp).
#include "pgcutover/pg/tls.hpp"

namespace pgcutover::pg {

std::optional<std::string> tls_hint(const std::string &message, const std::string &role) {
  auto has = [&](const char *s) { return message.find(s) != std::string::npos; };
  const std::string side = role.empty() ? "the server" : "the " + role + " server";
  if (has("certificate verify failed") || has("self-signed certificate") || has("self signed certificate") ||
      has("unable to get local issuer certificate") || has("certificate has expired"))
    return side + "'s certificate does not verify against the CA file: set sslrootcert= in the " + role +
           " conninfo to the CA that signed it (with sslmode=verify-full or verify-ca)";
  if (has("does not match host name"))
    return side + "'s certificate does not name the host connected to: connect by a name the certificate holds "
                  "(its subjectAltName or CN), or fix the certificate";
  if (has("root certificate file"))
    return "the CA file given as sslrootcert= in the " + role + " conninfo cannot be read: give a readable file";
  if (has("private key file") || has("certificate file") || has("client certificate"))
    return "the client certificate or key of the " + role +
           " conninfo (sslcert=, sslkey=) is missing, unreadable, not its pair, or its key is readable by others "
           "(chmod 600)";
  if (has("server does not support SSL"))
    return side + " does not accept TLS, and the conninfo requires it (sslmode=require or stricter)";
  if (has("SSL off") || has("no encryption"))
    return side + " accepts only TLS connections (hostssl in pg_hba.conf): add sslmode=verify-full sslrootcert=<CA "
                  "file> to the " + role + " conninfo";
  if (has("SSL error") || has("SSL SYSCALL error") || has("tlsv1 alert") || has("sslv3 alert"))
    return "the TLS handshake with " + side + " failed: check sslmode, sslrootcert, sslcert and sslkey in the " +
           role + " conninfo against the server's ssl settings";
  return std::nullopt;
}

}  // namespace pgcutover::pg
