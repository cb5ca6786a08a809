#pragma once
// Statements of sync/drift_apply: what the catalogs hold beyond tables and
// columns (partition bounds, enum labels, indexes, constraints), and the DDL
// that carries additive drift to the target.
#include <string>

#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sql::drift {

// $1 schema, $2 table -> bound (pg_get_expr of relpartbound), partition key
// definition (partitioned tables, else NULL), partition constraint, UNLOGGED
// (bool), parent schema, parent name. No row when the table is not a partition.
const char *partition_shape();
// $1 schema, $2 parent -> schema and name of its DEFAULT partition (no row if none).
const char *default_partition();
// $1 text[] schemas left out -> schema, name, bound, partition constraint,
// parent schema, parent name of every partition.
const char *partition_bounds();
// $1 text[] schemas left out -> schema, domain, default text ('' for none).
const char *domain_defaults();
// $1 -> schema, domain, constraint, definition (CHECK constraints).
const char *domain_constraints();
// $1 -> schema, relation, column ('' for the relation), comment.
const char *relation_comments();
// $1 schema, $2 relation -> owner, grantee ('' PUBLIC, NULL for no GRANT row),
// privilege, grantable, whether the grantee / owner exists ... on the source;
// role names are checked on the target separately.
const char *relation_grants();
// $1 schema, $2 relation -> column ('' for the relation), comment.
const char *comments_of();
std::string set_owner(const QualifiedName &table, const std::string &role);
std::string grant_on(const QualifiedName &table, const std::string &privilege, const std::string &grantee, bool grantable);
std::string domain_default(const QualifiedName &domain, const std::string &default_text);  // '' drops it
std::string domain_validate(const QualifiedName &domain, const std::string &name);
std::string rename_constraint(const QualifiedName &table, const std::string &from, const std::string &to);
std::string rename_index(const std::string &schema, const std::string &from, const std::string &to);
std::string rename_enum_label(const QualifiedName &type, const std::string &from, const std::string &to);
std::string comment_on(const QualifiedName &relation, const std::string &column, const std::string &comment);  // '' = NULL
std::string detach_partition(const QualifiedName &parent, const QualifiedName &partition);
std::string attach_partition(const QualifiedName &parent, const QualifiedName &partition, const std::string &bound);
// Rows of the table its (new) partition constraint rejects.
std::string delete_outside(const QualifiedName &table, const std::string &constraint);
// $1 excluded schemas -> schema, type, label: every enum label outside the
// system and excluded schemas, types in name order, labels in sort order.
// Types that belong to an extension are left out.
const char *enum_labels();
// $1 excluded schemas -> schema, table, index name, definition: indexes that
// are not made by a constraint nor by a partitioned parent's index.
const char *plain_indexes();
// $1 excluded schemas -> schema, table, name, contype, definition: CHECK,
// UNIQUE, PRIMARY KEY, EXCLUDE and FOREIGN KEY constraints declared on the
// table itself (not inherited from a parent), primary and unique keys first.
const char *local_constraints();

// CREATE [UNLOGGED] TABLE t PARTITION OF parent <bound> [PARTITION BY key]
std::string create_partition(const QualifiedName &table, const QualifiedName &parent, const std::string &bound,
                             const std::string &partition_key, bool unlogged);
std::string delete_where(const QualifiedName &table, const std::string &predicate);
// ALTER TYPE t ADD VALUE IF NOT EXISTS 'label' [BEFORE|AFTER 'anchor']
std::string add_enum_label(const QualifiedName &type, const std::string &label, const std::string &anchor, bool before);
// ALTER TABLE t ADD COLUMN c type (nullable, no default: the values come from the source)
std::string add_bare_column(const QualifiedName &table, const std::string &column, const std::string &type);
std::string set_default(const QualifiedName &table, const std::string &column, const std::string &default_expr);
std::string drop_default(const QualifiedName &table, const std::string &column);
std::string set_not_null(const QualifiedName &table, const std::string &column);
std::string drop_not_null(const QualifiedName &table, const std::string &column);
// The source's pg_get_indexdef, made to build on every partition as well
// (pg_get_indexdef says ON ONLY for a partitioned parent's index).
std::string create_index(const std::string &indexdef);
std::string add_constraint(const QualifiedName &table, const std::string &name, const std::string &definition);

}  // namespace pgcutover::sql::drift
