-- numaudit: CUCM directory numbers and what uses them, for the `cucm_axl_sql` source kind.
--
-- How to run: send the select below in an AXL executeSQLQuery request
--   <ns:executeSQLQuery><sql>select ... order by ...</sql></ns:executeSQLQuery>
-- and save the whole SOAP response as a .xml file: that response is what numaudit reads.
-- On the CUCM admin CLI, `run sql <the select on one line>` prints the same rows as a text
-- table, handy to check the query by eye; numaudit does not read that output.
-- Large clusters: AXL caps the size of one response. Page with `select skip 0 first 5000`,
-- `select skip 5000 first 5000`, ... (same order by) and point the source at the folder
-- of response files.
--
-- One row per DN and device using it (a shared line gives a row per device); a DN no
-- device uses gives one row with an empty devicename (configured, not in use). Non-device
-- patterns (hunt pilots, call park, ...) have no device. Keep the aliases: numaudit reads
-- these column names (Informix returns them lower-case).
select np.dnorpattern,
       tpu.name as tkpatternusage,
       rp.name as routepartition,
       d.name as devicename,
       tc.name as deviceclass,
       dp.name as devicepool,
       eu.userid as owneruserid,
       dnpm.e164mask as e164mask
  from numplan np
  join typepatternusage tpu on np.tkpatternusage = tpu.enum
  left join routepartition rp on np.fkroutepartition = rp.pkid
  left join devicenumplanmap dnpm on dnpm.fknumplan = np.pkid
  left join device d on dnpm.fkdevice = d.pkid
  left join typeclass tc on d.tkclass = tc.enum
  left join devicepool dp on d.fkdevicepool = dp.pkid
  left join enduser eu on d.fkenduser = eu.pkid
 order by np.dnorpattern, rp.name, d.name
