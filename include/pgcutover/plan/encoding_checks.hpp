#pragma once
// Source and target with different encodings.
//
// Every session runs with client_encoding UTF8, and both COPY formats convert
// text on both ends: text COPY by COPY's own transcoding, binary COPY through
// the types' send/receive functions (textsend, textrecv, jsonb_send, enum_send
// ... call pq_sendtext / pq_getmsgtext, which convert between the server's and
// the client's encoding). So a LATIN1 source lands correctly in a UTF8 target.
// The other way can fail: a character the target's encoding lacks (a UTF8 '€'
// into LATIN1) makes the target's COPY fail mid-run. That is found first: when
// the target's encoding is neither UTF8 nor the source's, one scan per table
// converts the text form of every column that can hold non-ASCII text into the
// target's encoding (convert_to, in a savepoint inside the plan's snapshot),
// and a table with such a value is refused naming the column, before any data
// moves. "char" (a single byte, no encoding) is carried as its byte.
#include <string>
#include <vector>

#include "pgcutover/catalog/catalog.hpp"
#include "pgcutover/pg/connection.hpp"
#include "pgcutover/plan/plan.hpp"

namespace pgcutover::plan {

// Moves every table holding text the target's encoding cannot represent into
// `refused`, naming the columns and the server's message (the characters).
void refuse_unencodable(pg::Connection &src, pg::Connection &dst, std::vector<catalog::TableDef> &tables,
                        std::vector<Refusal> &refused);

}  // namespace pgcutover::plan
