/** Which failure a MySQL or MariaDB client's message means. */
import assert from "node:assert/strict";
import { mysqlProblemOf } from "../../lib/sources/mysql/mysql_source.ts";

Deno.test("mysqlProblemOf reads the clients' error numbers", () => {
  assert.equal(mysqlProblemOf("ERROR 1049 (42000): Unknown database 'nope'"), "no such database");
  assert.equal(
    mysqlProblemOf(
      "ERROR 1045 (28000): Access denied for user 'me'@'localhost' (using password: YES)",
    ),
    "authentication",
  );
  assert.equal(
    mysqlProblemOf("ERROR 2002 (HY000): Can't connect to local server through socket '/x' (2)"),
    "unreachable",
  );
  assert.equal(
    mysqlProblemOf("ERROR 2003 (HY000): Can't connect to MySQL server on '10.0.0.1'"),
    "unreachable",
  );
  assert.equal(
    mysqlProblemOf("ERROR 1064 (42000): You have an error in your SQL syntax"),
    undefined,
  );
});
