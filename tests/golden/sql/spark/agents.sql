WITH `__rows0` AS (
  SELECT
    `acsi_expectations`,
    `acsi_ideal`,
    `acsi_satisfaction`,
    `agent_id`,
    `agent_tenure_months`,
    `answered`,
    `csat_score`,
    `customer_id`,
    `effort_score`,
    `fcr_reported`,
    `hold_s`,
    `nps_score`,
    `sale`,
    `started_at`,
    `talk_s`,
    `transferred`,
    `wrap_s`
  FROM `interactions`
), `__window1` AS (
  SELECT
    `acsi_expectations`,
    `acsi_ideal`,
    `acsi_satisfaction`,
    `agent_id`,
    `agent_tenure_months`,
    `answered`,
    `csat_score`,
    `effort_score`,
    `fcr_reported`,
    `hold_s`,
    `nps_score`,
    `sale`,
    `started_at`,
    `talk_s`,
    `transferred`,
    `wrap_s`,
    `__key0`,
    `__time`,
    `__host`,
    MIN(`__at0`) OVER (
      PARTITION BY `__key0`
      ORDER BY `__time`
      RANGE BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
    ) AS `__nearest0`,
    COUNT(`__at1`) OVER (
      PARTITION BY `__key0`
      ORDER BY `__time`
      RANGE BETWEEN 1 FOLLOWING AND 604800000000 FOLLOWING
    ) AS `__nearest1`
  FROM (
    SELECT
      `acsi_expectations`,
      `acsi_ideal`,
      `acsi_satisfaction`,
      `agent_id`,
      `agent_tenure_months`,
      `answered`,
      `csat_score`,
      `effort_score`,
      `fcr_reported`,
      `hold_s`,
      `nps_score`,
      `sale`,
      `started_at`,
      `talk_s`,
      `transferred`,
      `wrap_s`,
      `customer_id` AS `__key0`,
      UNIX_MICROS(`started_at`) AS `__time`,
      1 AS `__host`,
      CASE
        WHEN NOT `customer_id` IS NULL AND NOT UNIX_MICROS(`started_at`) IS NULL
        THEN UNIX_MICROS(`started_at`)
      END AS `__at0`,
      CASE
        WHEN NOT `customer_id` IS NULL AND NOT UNIX_MICROS(`started_at`) IS NULL
        THEN UNIX_MICROS(`started_at`)
      END AS `__at1`
    FROM `__rows0`
  ) AS `__stacked`
), `__window2` AS (
  SELECT
    `acsi_expectations`,
    `acsi_ideal`,
    `acsi_satisfaction`,
    `agent_id`,
    `agent_tenure_months`,
    `answered`,
    `csat_score`,
    `effort_score`,
    `fcr_reported`,
    `hold_s`,
    `nps_score`,
    `sale`,
    `started_at`,
    `talk_s`,
    `transferred`,
    `wrap_s`,
    `__time`,
    NOT (
      `__time` IS NULL OR `__key0` IS NULL
    ) AS `__known`,
    CASE
      WHEN `__time` IS NULL OR `__key0` IS NULL
      THEN NULL
      ELSE COALESCE(`__nearest0` <= `__time` + 604800000000, FALSE)
    END AS `__window0`,
    CASE
      WHEN `__time` IS NULL OR `__key0` IS NULL
      THEN NULL
      ELSE CAST(COALESCE(`__nearest1`, 0) AS BIGINT)
    END AS `__window1`
  FROM `__window1`
  WHERE
    `__host` = 1
), `__bounds3` AS (
  SELECT
    MIN(UNIX_MICROS(`started_at`)) AS `__bounds3_first`,
    MAX(UNIX_MICROS(`started_at`)) AS `__bounds3_last`
  FROM `interactions`
), `__window4` AS (
  SELECT
    `acsi_expectations`,
    `acsi_ideal`,
    `acsi_satisfaction`,
    `agent_id`,
    `agent_tenure_months`,
    `answered`,
    `csat_score`,
    `effort_score`,
    `fcr_reported`,
    `hold_s`,
    `nps_score`,
    `sale`,
    `started_at`,
    `talk_s`,
    `transferred`,
    `wrap_s`,
    CASE
      WHEN `__known` AND COALESCE(`__time` + 604800000000 > `__bounds3_last`, TRUE)
      THEN NULL
      ELSE `__window0`
    END AS `__window0`,
    `__known` AND COALESCE(`__time` + 604800000000 > `__bounds3_last`, TRUE) AS `__window0_censored`,
    CASE
      WHEN `__known` AND COALESCE(`__time` + 604800000000 > `__bounds3_last`, TRUE)
      THEN NULL
      ELSE `__window1`
    END AS `__window1`,
    `__known` AND COALESCE(`__time` + 604800000000 > `__bounds3_last`, TRUE) AS `__window1_censored`
  FROM `__window2`
  CROSS JOIN `__bounds3`
), `__groups5` AS (
  SELECT
    `agent_id` AS `agent_id`,
    TRUNC(CAST(FROM_UTC_TIMESTAMP(`started_at`, 'UTC') AS DATE), 'QUARTER') AS `__grain`,
    AVG(CAST(`agent_tenure_months` AS DOUBLE)) AS `__agg0`,
    CAST(COUNT(`agent_tenure_months`) AS BIGINT) AS `__agg0_n`,
    CAST(COUNT(*) AS BIGINT) AS `__agg1`,
    CAST(COUNT(*) AS BIGINT) AS `__agg1_n`,
    AVG(
      CAST((
        CASE
          WHEN 3 <> 0
          THEN CAST(CASE
            WHEN 9 <> 0
            THEN CAST((
              100 * (
                `acsi_satisfaction` - 1
              )
            ) AS DOUBLE) / CAST(9 AS DOUBLE)
          END AS DOUBLE) / CAST(3 AS DOUBLE)
        END + CASE
          WHEN 3 <> 0
          THEN CAST(CASE
            WHEN 9 <> 0
            THEN CAST((
              100 * (
                `acsi_expectations` - 1
              )
            ) AS DOUBLE) / CAST(9 AS DOUBLE)
          END AS DOUBLE) / CAST(3 AS DOUBLE)
        END
      ) + CASE
        WHEN 3 <> 0
        THEN CAST(CASE
          WHEN 9 <> 0
          THEN CAST((
            100 * (
              `acsi_ideal` - 1
            )
          ) AS DOUBLE) / CAST(9 AS DOUBLE)
        END AS DOUBLE) / CAST(3 AS DOUBLE)
      END AS DOUBLE)
    ) AS `__agg2`,
    CAST(COUNT(
      (
        CASE
          WHEN 3 <> 0
          THEN CAST(CASE
            WHEN 9 <> 0
            THEN CAST((
              100 * (
                `acsi_satisfaction` - 1
              )
            ) AS DOUBLE) / CAST(9 AS DOUBLE)
          END AS DOUBLE) / CAST(3 AS DOUBLE)
        END + CASE
          WHEN 3 <> 0
          THEN CAST(CASE
            WHEN 9 <> 0
            THEN CAST((
              100 * (
                `acsi_expectations` - 1
              )
            ) AS DOUBLE) / CAST(9 AS DOUBLE)
          END AS DOUBLE) / CAST(3 AS DOUBLE)
        END
      ) + CASE
        WHEN 3 <> 0
        THEN CAST(CASE
          WHEN 9 <> 0
          THEN CAST((
            100 * (
              `acsi_ideal` - 1
            )
          ) AS DOUBLE) / CAST(9 AS DOUBLE)
        END AS DOUBLE) / CAST(3 AS DOUBLE)
      END
    ) AS BIGINT) AS `__agg2_n`,
    AVG(CAST(CAST(`nps_score` >= 9 AS INT) AS DOUBLE)) AS `__agg3`,
    CAST(COUNT(CAST(CAST(`nps_score` >= 9 AS INT) AS DOUBLE)) AS BIGINT) AS `__agg3_n`,
    AVG(CAST(CAST(`nps_score` <= 6 AS INT) AS DOUBLE)) AS `__agg4`,
    CAST(COUNT(CAST(CAST(`nps_score` <= 6 AS INT) AS DOUBLE)) AS BIGINT) AS `__agg4_n`,
    AVG(CAST(CAST(`csat_score` >= 4 AS INT) AS DOUBLE)) AS `__agg5`,
    CAST(COUNT(CAST(CAST(`csat_score` >= 4 AS INT) AS DOUBLE)) AS BIGINT) AS `__agg5_n`,
    AVG(CAST(`effort_score` AS DOUBLE)) AS `__agg6`,
    CAST(COUNT(`effort_score`) AS BIGINT) AS `__agg6_n`,
    AVG(CAST(CAST(`effort_score` <= 2 AS INT) AS DOUBLE)) AS `__agg7`,
    CAST(COUNT(CAST(CAST(`effort_score` <= 2 AS INT) AS DOUBLE)) AS BIGINT) AS `__agg7_n`,
    AVG(CAST(CAST(`fcr_reported` AS INT) AS DOUBLE)) AS `__agg8`,
    CAST(COUNT(CAST(CAST(`fcr_reported` AS INT) AS DOUBLE)) AS BIGINT) AS `__agg8_n`,
    AVG(
      CAST(CASE WHEN `answered` THEN CAST(CAST(NOT (
        `__window0`
      ) AS INT) AS DOUBLE) END AS DOUBLE)
    ) AS `__agg9`,
    CAST(COUNT(CASE WHEN `answered` THEN CAST(CAST(NOT (
      `__window0`
    ) AS INT) AS DOUBLE) END) AS BIGINT) AS `__agg9_n`,
    CAST(COALESCE(
      SUM(
        CASE
          WHEN (
            `__window0_censored`
          ) AND COALESCE(`answered`, TRUE)
          THEN 1
          ELSE 0
        END
      ),
      0
    ) AS BIGINT) AS `__agg9_censored`,
    AVG(CAST(CASE WHEN `answered` THEN `__window1` END AS DOUBLE)) AS `__agg10`,
    CAST(COUNT(CASE WHEN `answered` THEN `__window1` END) AS BIGINT) AS `__agg10_n`,
    CAST(COALESCE(
      SUM(
        CASE
          WHEN (
            `__window1_censored`
          ) AND COALESCE(`answered`, TRUE)
          THEN 1
          ELSE 0
        END
      ),
      0
    ) AS BIGINT) AS `__agg10_censored`,
    AVG(
      CAST(CASE WHEN `answered` THEN (
        (
          `talk_s` + `hold_s`
        ) + `wrap_s`
      ) END AS DOUBLE)
    ) AS `__agg11`,
    CAST(COUNT(CASE WHEN `answered` THEN (
      (
        `talk_s` + `hold_s`
      ) + `wrap_s`
    ) END) AS BIGINT) AS `__agg11_n`,
    AVG(
      CAST(CASE WHEN `answered` THEN CAST(CAST(`transferred` AS INT) AS DOUBLE) END AS DOUBLE)
    ) AS `__agg12`,
    CAST(COUNT(CASE WHEN `answered` THEN CAST(CAST(`transferred` AS INT) AS DOUBLE) END) AS BIGINT) AS `__agg12_n`,
    AVG(
      CAST(CASE WHEN `answered` THEN CAST(CAST(`sale` AS INT) AS DOUBLE) END AS DOUBLE)
    ) AS `__agg13`,
    CAST(COUNT(CASE WHEN `answered` THEN CAST(CAST(`sale` AS INT) AS DOUBLE) END) AS BIGINT) AS `__agg13_n`
  FROM `__window4`
  GROUP BY
    `agent_id`,
    TRUNC(CAST(FROM_UTC_TIMESTAMP(`started_at`, 'UTC') AS DATE), 'QUARTER')
), `__groups` AS (
  SELECT
    `agent_id`,
    `__grain`,
    `__agg0`,
    `__agg0_n`,
    `__agg1`,
    `__agg1_n`,
    `__agg2`,
    `__agg2_n`,
    `__agg3`,
    `__agg3_n`,
    `__agg4`,
    `__agg4_n`,
    `__agg5`,
    `__agg5_n`,
    `__agg6`,
    `__agg6_n`,
    `__agg7`,
    `__agg7_n`,
    `__agg8`,
    `__agg8_n`,
    `__agg9`,
    `__agg9_n`,
    `__agg9_censored`,
    `__agg10`,
    `__agg10_n`,
    `__agg10_censored`,
    `__agg11`,
    `__agg11_n`,
    `__agg12`,
    `__agg12_n`,
    `__agg13`,
    `__agg13_n`
  FROM `__groups5`
), `__bounds` AS (
  SELECT
    MIN(`__groups`.`__grain`) AS `__first`,
    MAX(`__groups`.`__grain`) AS `__last`
  FROM `__groups`
), `__periods` AS (
  SELECT
    `__start` AS `__grain`
  FROM EXPLODE(
    SEQUENCE(
      (
        SELECT
          `__bounds`.`__first`
        FROM `__bounds`
      ),
      (
        SELECT
          `__bounds`.`__last`
        FROM `__bounds`
      ),
      INTERVAL '1' MONTH
    )
  ) AS `__series`(`__start`)
  WHERE
    MONTH(`__start`) IN (1, 4, 7, 10)
), `__keys` AS (
  SELECT DISTINCT
    `agent_id`
  FROM `__groups`
), `__complete` AS (
  SELECT
    `__keys`.`agent_id`,
    `__periods`.`__grain`,
    `__groups`.`__agg0` AS `__agg0`,
    COALESCE(`__groups`.`__agg0_n`, 0) AS `__agg0_n`,
    COALESCE(`__groups`.`__agg1`, 0) AS `__agg1`,
    COALESCE(`__groups`.`__agg1_n`, 0) AS `__agg1_n`,
    `__groups`.`__agg2` AS `__agg2`,
    COALESCE(`__groups`.`__agg2_n`, 0) AS `__agg2_n`,
    `__groups`.`__agg3` AS `__agg3`,
    COALESCE(`__groups`.`__agg3_n`, 0) AS `__agg3_n`,
    `__groups`.`__agg4` AS `__agg4`,
    COALESCE(`__groups`.`__agg4_n`, 0) AS `__agg4_n`,
    `__groups`.`__agg5` AS `__agg5`,
    COALESCE(`__groups`.`__agg5_n`, 0) AS `__agg5_n`,
    `__groups`.`__agg6` AS `__agg6`,
    COALESCE(`__groups`.`__agg6_n`, 0) AS `__agg6_n`,
    `__groups`.`__agg7` AS `__agg7`,
    COALESCE(`__groups`.`__agg7_n`, 0) AS `__agg7_n`,
    `__groups`.`__agg8` AS `__agg8`,
    COALESCE(`__groups`.`__agg8_n`, 0) AS `__agg8_n`,
    `__groups`.`__agg9` AS `__agg9`,
    COALESCE(`__groups`.`__agg9_n`, 0) AS `__agg9_n`,
    COALESCE(`__groups`.`__agg9_censored`, 0) AS `__agg9_censored`,
    `__groups`.`__agg10` AS `__agg10`,
    COALESCE(`__groups`.`__agg10_n`, 0) AS `__agg10_n`,
    COALESCE(`__groups`.`__agg10_censored`, 0) AS `__agg10_censored`,
    `__groups`.`__agg11` AS `__agg11`,
    COALESCE(`__groups`.`__agg11_n`, 0) AS `__agg11_n`,
    `__groups`.`__agg12` AS `__agg12`,
    COALESCE(`__groups`.`__agg12_n`, 0) AS `__agg12_n`,
    `__groups`.`__agg13` AS `__agg13`,
    COALESCE(`__groups`.`__agg13_n`, 0) AS `__agg13_n`
  FROM `__keys`
  CROSS JOIN `__periods`
  LEFT JOIN `__groups`
    ON `__keys`.`agent_id` IS NOT DISTINCT FROM `__groups`.`agent_id`
    AND `__periods`.`__grain` = `__groups`.`__grain`
  UNION ALL
  SELECT
    `agent_id`,
    `__grain`,
    `__agg0`,
    `__agg0_n`,
    `__agg1`,
    `__agg1_n`,
    `__agg2`,
    `__agg2_n`,
    `__agg3`,
    `__agg3_n`,
    `__agg4`,
    `__agg4_n`,
    `__agg5`,
    `__agg5_n`,
    `__agg6`,
    `__agg6_n`,
    `__agg7`,
    `__agg7_n`,
    `__agg8`,
    `__agg8_n`,
    `__agg9`,
    `__agg9_n`,
    `__agg9_censored`,
    `__agg10`,
    `__agg10_n`,
    `__agg10_censored`,
    `__agg11`,
    `__agg11_n`,
    `__agg12`,
    `__agg12_n`,
    `__agg13`,
    `__agg13_n`
  FROM `__groups`
  WHERE
    `__grain` IS NULL
), `__numbered` AS (
  SELECT
    *,
    CAST(YEAR(`__grain`) AS BIGINT) * 12 + CAST(MONTH(`__grain`) AS BIGINT) - 1 AS `__period`
  FROM `__complete`
), `__layer0` AS (
  SELECT
    *,
    `__agg0` AS `__value_agent_tenure`,
    CAST(`__agg0_n` AS BIGINT) AS `__n_agent_tenure`,
    `__agg1` AS `__value_contacts`,
    CAST(`__agg1_n` AS BIGINT) AS `__n_contacts`,
    `__agg2` AS `__value_acsi`,
    CAST(`__agg2_n` AS BIGINT) AS `__n_acsi`,
    100 * (
      `__agg3` - `__agg4`
    ) AS `__value_nps`,
    CAST(LEAST(COALESCE(`__agg3_n`, `__agg4_n`), COALESCE(`__agg4_n`, `__agg3_n`)) AS BIGINT) AS `__n_nps`,
    `__agg5` AS `__value_csat`,
    CAST(`__agg5_n` AS BIGINT) AS `__n_csat`,
    `__agg6` AS `__value_ces`,
    CAST(`__agg6_n` AS BIGINT) AS `__n_ces`,
    `__agg7` AS `__value_ces_agree`,
    CAST(`__agg7_n` AS BIGINT) AS `__n_ces_agree`,
    `__agg8` AS `__value_fcr_reported`,
    CAST(`__agg8_n` AS BIGINT) AS `__n_fcr_reported`,
    `__agg9` AS `__value_fcr`,
    CAST(`__agg9_n` AS BIGINT) AS `__n_fcr`,
    `__agg10` AS `__value_repeat_contacts_7d`,
    CAST(`__agg10_n` AS BIGINT) AS `__n_repeat_contacts_7d`,
    `__agg11` AS `__value_aht`,
    CAST(`__agg11_n` AS BIGINT) AS `__n_aht`,
    `__agg12` AS `__value_transfer_rate`,
    CAST(`__agg12_n` AS BIGINT) AS `__n_transfer_rate`,
    `__agg13` AS `__value_sales_conversion`,
    CAST(`__agg13_n` AS BIGINT) AS `__n_sales_conversion`
  FROM `__numbered`
), `__metrics0` AS (
  SELECT
    *,
    CASE
      WHEN `__value_agent_tenure` - `__value_agent_tenure` = 0
      THEN `__value_agent_tenure`
    END AS `agent_tenure`,
    `__value_contacts` AS `contacts`,
    CASE
      WHEN `__n_acsi` >= 30 AND `__value_acsi` - `__value_acsi` = 0
      THEN `__value_acsi`
    END AS `acsi`,
    CASE
      WHEN `__n_nps` >= 30 AND `__value_nps` - `__value_nps` = 0
      THEN `__value_nps`
    END AS `nps`,
    CASE
      WHEN `__n_csat` >= 30 AND `__value_csat` - `__value_csat` = 0
      THEN `__value_csat`
    END AS `csat`,
    CASE
      WHEN `__n_ces` >= 30 AND `__value_ces` - `__value_ces` = 0
      THEN `__value_ces`
    END AS `ces`,
    CASE
      WHEN `__n_ces_agree` >= 30 AND `__value_ces_agree` - `__value_ces_agree` = 0
      THEN `__value_ces_agree`
    END AS `ces_agree`,
    CASE
      WHEN `__n_fcr_reported` >= 30 AND `__value_fcr_reported` - `__value_fcr_reported` = 0
      THEN `__value_fcr_reported`
    END AS `fcr_reported`,
    CASE WHEN `__value_fcr` - `__value_fcr` = 0 THEN `__value_fcr` END AS `fcr`,
    CASE
      WHEN `__value_repeat_contacts_7d` - `__value_repeat_contacts_7d` = 0
      THEN `__value_repeat_contacts_7d`
    END AS `repeat_contacts_7d`,
    CASE WHEN `__value_aht` - `__value_aht` = 0 THEN `__value_aht` END AS `aht`,
    CASE
      WHEN `__value_transfer_rate` - `__value_transfer_rate` = 0
      THEN `__value_transfer_rate`
    END AS `transfer_rate`,
    CASE
      WHEN `__value_sales_conversion` - `__value_sales_conversion` = 0
      THEN `__value_sales_conversion`
    END AS `sales_conversion`
  FROM `__layer0`
)
SELECT
  `agent_id`,
  CAST(CAST(YEAR(`__grain`) AS BIGINT) AS STRING) || '-Q' || CAST(CAST(FLOOR((
    MONTH(`__grain`) + 2
  ) / 3) AS BIGINT) AS STRING) AS `quarter`,
  `agent_tenure`,
  `contacts`,
  `acsi`,
  `nps`,
  `csat`,
  `ces`,
  `ces_agree`,
  `fcr_reported`,
  `fcr`,
  `repeat_contacts_7d`,
  `aht`,
  `transfer_rate`,
  `sales_conversion`,
  COALESCE(`__agg9_censored`, 0) > 0 OR COALESCE(`__agg10_censored`, 0) > 0 AS `provisional`
FROM `__metrics0`
ORDER BY
  `agent_id` NULLS LAST,
  `__grain` NULLS LAST
