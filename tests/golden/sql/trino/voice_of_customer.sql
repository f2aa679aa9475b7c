WITH "__rows0" AS (
  SELECT
    "acsi_expectations",
    "acsi_ideal",
    "acsi_satisfaction",
    "answered",
    "contact_reason",
    "csat_score",
    "customer_id",
    "effort_score",
    "fcr_reported",
    "nps_score",
    "sentiment_score",
    "started_at"
  FROM "interactions"
), "__rows1" AS (
  SELECT
    "amount",
    "customer_id",
    "ordered_at"
  FROM "orders"
), "__window2" AS (
  SELECT
    "acsi_expectations",
    "acsi_ideal",
    "acsi_satisfaction",
    "answered",
    "contact_reason",
    "csat_score",
    "effort_score",
    "fcr_reported",
    "nps_score",
    "sentiment_score",
    "started_at",
    "__key0",
    "__time",
    "__host",
    MIN("__at0") OVER (
      PARTITION BY "__key0"
      ORDER BY "__time" NULLS FIRST
      RANGE BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
    ) AS "__nearest0",
    COUNT("__at1") OVER (
      PARTITION BY "__key0"
      ORDER BY "__time" NULLS FIRST
      RANGE BETWEEN 1 FOLLOWING AND 604800000000 FOLLOWING
    ) AS "__nearest1",
    MIN("__at2") OVER (
      PARTITION BY "__key0"
      ORDER BY "__time" NULLS FIRST
      RANGE BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
    ) AS "__nearest2",
    COUNT("__at3") OVER (
      PARTITION BY "__key0"
      ORDER BY "__time" NULLS FIRST
      RANGE BETWEEN 1 FOLLOWING AND 7776000000000 FOLLOWING
    ) AS "__nearest3",
    COUNT("__at4") OVER (
      PARTITION BY "__key0"
      ORDER BY "__time" NULLS FIRST
      RANGE BETWEEN 1 FOLLOWING AND 7776000000000 FOLLOWING
    ) AS "__nearest4"
  FROM (
    SELECT
      "acsi_expectations",
      "acsi_ideal",
      "acsi_satisfaction",
      "answered",
      "contact_reason",
      "csat_score",
      "effort_score",
      "fcr_reported",
      "nps_score",
      "sentiment_score",
      "started_at",
      "customer_id" AS "__key0",
      CAST(ROUND(TO_UNIXTIME("started_at") * 1000000) AS BIGINT) AS "__time",
      1 AS "__host",
      CASE
        WHEN NOT "customer_id" IS NULL
        AND NOT CAST(ROUND(TO_UNIXTIME("started_at") * 1000000) AS BIGINT) IS NULL
        THEN CAST(ROUND(TO_UNIXTIME("started_at") * 1000000) AS BIGINT)
      END AS "__at0",
      CASE
        WHEN NOT "customer_id" IS NULL
        AND NOT CAST(ROUND(TO_UNIXTIME("started_at") * 1000000) AS BIGINT) IS NULL
        THEN CAST(ROUND(TO_UNIXTIME("started_at") * 1000000) AS BIGINT)
      END AS "__at1",
      CAST(NULL AS BIGINT) AS "__at2",
      CAST(NULL AS BIGINT) AS "__at3",
      CASE
        WHEN NOT "customer_id" IS NULL
        AND NOT CAST(ROUND(TO_UNIXTIME("started_at") * 1000000) AS BIGINT) IS NULL
        THEN CAST(ROUND(TO_UNIXTIME("started_at") * 1000000) AS BIGINT)
      END AS "__at4"
    FROM "__rows0"
    UNION ALL
    SELECT
      NULL AS "acsi_expectations",
      NULL AS "acsi_ideal",
      NULL AS "acsi_satisfaction",
      NULL AS "answered",
      NULL AS "contact_reason",
      NULL AS "csat_score",
      NULL AS "effort_score",
      NULL AS "fcr_reported",
      NULL AS "nps_score",
      NULL AS "sentiment_score",
      NULL AS "started_at",
      "customer_id" AS "__key0",
      CAST(ROUND(TO_UNIXTIME("ordered_at") * 1000000) AS BIGINT) AS "__time",
      0 AS "__host",
      CAST(NULL AS BIGINT) AS "__at0",
      CAST(NULL AS BIGINT) AS "__at1",
      CASE
        WHEN (
          "amount" > 0
        )
        AND NOT CAST(ROUND(TO_UNIXTIME("ordered_at") * 1000000) AS BIGINT) IS NULL
        THEN CAST(ROUND(TO_UNIXTIME("ordered_at") * 1000000) AS BIGINT)
      END AS "__at2",
      CASE
        WHEN (
          "amount" > 0
        )
        AND NOT CAST(ROUND(TO_UNIXTIME("ordered_at") * 1000000) AS BIGINT) IS NULL
        THEN CAST(ROUND(TO_UNIXTIME("ordered_at") * 1000000) AS BIGINT)
      END AS "__at3",
      CAST(NULL AS BIGINT) AS "__at4"
    FROM "__rows1"
    WHERE
      NOT "customer_id" IS NULL
      AND NOT CAST(ROUND(TO_UNIXTIME("ordered_at") * 1000000) AS BIGINT) IS NULL
      AND (
        (
          "amount" > 0
        ) OR (
          "amount" > 0
        )
      )
  ) AS "__stacked"
), "__window3" AS (
  SELECT
    "acsi_expectations",
    "acsi_ideal",
    "acsi_satisfaction",
    "answered",
    "contact_reason",
    "csat_score",
    "effort_score",
    "fcr_reported",
    "nps_score",
    "sentiment_score",
    "started_at",
    "__time",
    NOT (
      "__time" IS NULL OR "__key0" IS NULL
    ) AS "__known",
    CASE
      WHEN "__time" IS NULL OR "__key0" IS NULL
      THEN NULL
      ELSE COALESCE("__nearest0" <= "__time" + 604800000000, FALSE)
    END AS "__window0",
    CASE
      WHEN "__time" IS NULL OR "__key0" IS NULL
      THEN NULL
      ELSE CAST(COALESCE("__nearest1", 0) AS BIGINT)
    END AS "__window1",
    CASE
      WHEN "__time" IS NULL OR "__key0" IS NULL
      THEN NULL
      ELSE COALESCE("__nearest2" <= "__time" + 2592000000000, FALSE)
    END AS "__window2",
    CASE
      WHEN "__time" IS NULL OR "__key0" IS NULL
      THEN NULL
      ELSE CAST(COALESCE("__nearest3", 0) AS BIGINT)
    END AS "__window3",
    CASE
      WHEN "__time" IS NULL OR "__key0" IS NULL
      THEN NULL
      ELSE CAST(COALESCE("__nearest4", 0) AS BIGINT)
    END AS "__window4"
  FROM "__window2"
  WHERE
    "__host" = 1
), "__bounds4" AS (
  SELECT
    MIN(CAST(ROUND(TO_UNIXTIME("started_at") * 1000000) AS BIGINT)) AS "__bounds4_first",
    MAX(CAST(ROUND(TO_UNIXTIME("started_at") * 1000000) AS BIGINT)) AS "__bounds4_last"
  FROM "interactions"
), "__bounds5" AS (
  SELECT
    MIN(CAST(ROUND(TO_UNIXTIME("ordered_at") * 1000000) AS BIGINT)) AS "__bounds5_first",
    MAX(CAST(ROUND(TO_UNIXTIME("ordered_at") * 1000000) AS BIGINT)) AS "__bounds5_last"
  FROM "orders"
), "__window6" AS (
  SELECT
    "acsi_expectations",
    "acsi_ideal",
    "acsi_satisfaction",
    "answered",
    "contact_reason",
    "csat_score",
    "effort_score",
    "fcr_reported",
    "nps_score",
    "sentiment_score",
    "started_at",
    CASE
      WHEN "__known" AND COALESCE("__time" + 604800000000 > "__bounds4_last", TRUE)
      THEN NULL
      ELSE "__window0"
    END AS "__window0",
    "__known" AND COALESCE("__time" + 604800000000 > "__bounds4_last", TRUE) AS "__window0_censored",
    CASE
      WHEN "__known" AND COALESCE("__time" + 604800000000 > "__bounds4_last", TRUE)
      THEN NULL
      ELSE "__window1"
    END AS "__window1",
    "__known" AND COALESCE("__time" + 604800000000 > "__bounds4_last", TRUE) AS "__window1_censored",
    CASE
      WHEN "__known" AND COALESCE("__time" + 2592000000000 > "__bounds5_last", TRUE)
      THEN NULL
      ELSE "__window2"
    END AS "__window2",
    "__known" AND COALESCE("__time" + 2592000000000 > "__bounds5_last", TRUE) AS "__window2_censored",
    CASE
      WHEN "__known" AND COALESCE("__time" + 7776000000000 > "__bounds5_last", TRUE)
      THEN NULL
      ELSE "__window3"
    END AS "__window3",
    "__known" AND COALESCE("__time" + 7776000000000 > "__bounds5_last", TRUE) AS "__window3_censored",
    CASE
      WHEN "__known" AND COALESCE("__time" + 7776000000000 > "__bounds4_last", TRUE)
      THEN NULL
      ELSE "__window4"
    END AS "__window4",
    "__known" AND COALESCE("__time" + 7776000000000 > "__bounds4_last", TRUE) AS "__window4_censored"
  FROM "__window3"
  CROSS JOIN "__bounds4"
  CROSS JOIN "__bounds5"
), "__groups7" AS (
  SELECT
    "contact_reason" AS "contact_reason",
    DATE_TRUNC('week', CAST(CAST(("started_at" AT TIME ZONE 'UTC') AS TIMESTAMP) AS DATE)) AS "__grain",
    CAST(COUNT(*) AS BIGINT) AS "__agg0",
    CAST(COUNT(*) AS BIGINT) AS "__agg0_n",
    AVG(
      CAST((
        CASE
          WHEN 3 <> 0
          THEN CAST(CASE
            WHEN 9 <> 0
            THEN CAST((
              100 * (
                "acsi_satisfaction" - 1
              )
            ) AS DOUBLE) / CAST(9 AS DOUBLE)
          END AS DOUBLE) / CAST(3 AS DOUBLE)
        END + CASE
          WHEN 3 <> 0
          THEN CAST(CASE
            WHEN 9 <> 0
            THEN CAST((
              100 * (
                "acsi_expectations" - 1
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
              "acsi_ideal" - 1
            )
          ) AS DOUBLE) / CAST(9 AS DOUBLE)
        END AS DOUBLE) / CAST(3 AS DOUBLE)
      END AS DOUBLE)
    ) AS "__agg1",
    CAST(COUNT(
      (
        CASE
          WHEN 3 <> 0
          THEN CAST(CASE
            WHEN 9 <> 0
            THEN CAST((
              100 * (
                "acsi_satisfaction" - 1
              )
            ) AS DOUBLE) / CAST(9 AS DOUBLE)
          END AS DOUBLE) / CAST(3 AS DOUBLE)
        END + CASE
          WHEN 3 <> 0
          THEN CAST(CASE
            WHEN 9 <> 0
            THEN CAST((
              100 * (
                "acsi_expectations" - 1
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
              "acsi_ideal" - 1
            )
          ) AS DOUBLE) / CAST(9 AS DOUBLE)
        END AS DOUBLE) / CAST(3 AS DOUBLE)
      END
    ) AS BIGINT) AS "__agg1_n",
    AVG(CAST(CAST("nps_score" >= 9 AS INTEGER) AS DOUBLE)) AS "__agg2",
    CAST(COUNT(CAST(CAST("nps_score" >= 9 AS INTEGER) AS DOUBLE)) AS BIGINT) AS "__agg2_n",
    AVG(CAST(CAST("nps_score" <= 6 AS INTEGER) AS DOUBLE)) AS "__agg3",
    CAST(COUNT(CAST(CAST("nps_score" <= 6 AS INTEGER) AS DOUBLE)) AS BIGINT) AS "__agg3_n",
    AVG(CAST(CAST("csat_score" >= 4 AS INTEGER) AS DOUBLE)) AS "__agg4",
    CAST(COUNT(CAST(CAST("csat_score" >= 4 AS INTEGER) AS DOUBLE)) AS BIGINT) AS "__agg4_n",
    AVG(CAST("effort_score" AS DOUBLE)) AS "__agg5",
    CAST(COUNT("effort_score") AS BIGINT) AS "__agg5_n",
    AVG(CAST(CAST("fcr_reported" AS INTEGER) AS DOUBLE)) AS "__agg6",
    CAST(COUNT(CAST(CAST("fcr_reported" AS INTEGER) AS DOUBLE)) AS BIGINT) AS "__agg6_n",
    AVG(CAST("sentiment_score" AS DOUBLE)) AS "__agg7",
    CAST(COUNT("sentiment_score") AS BIGINT) AS "__agg7_n",
    AVG(
      CAST(CASE
        WHEN "answered"
        THEN CAST(CAST(NOT (
          "__window0"
        ) AS INTEGER) AS DOUBLE)
      END AS DOUBLE)
    ) AS "__agg8",
    CAST(COUNT(
      CASE
        WHEN "answered"
        THEN CAST(CAST(NOT (
          "__window0"
        ) AS INTEGER) AS DOUBLE)
      END
    ) AS BIGINT) AS "__agg8_n",
    CAST(COALESCE(
      SUM(
        CASE
          WHEN (
            "__window0_censored"
          ) AND COALESCE("answered", TRUE)
          THEN 1
          ELSE 0
        END
      ),
      0
    ) AS BIGINT) AS "__agg8_censored",
    AVG(
      CAST(CASE WHEN "answered" THEN CAST(CAST((
        "__window0"
      ) AS INTEGER) AS DOUBLE) END AS DOUBLE)
    ) AS "__agg9",
    CAST(COUNT(CASE WHEN "answered" THEN CAST(CAST((
      "__window0"
    ) AS INTEGER) AS DOUBLE) END) AS BIGINT) AS "__agg9_n",
    CAST(COALESCE(
      SUM(
        CASE
          WHEN (
            "__window0_censored"
          ) AND COALESCE("answered", TRUE)
          THEN 1
          ELSE 0
        END
      ),
      0
    ) AS BIGINT) AS "__agg9_censored",
    AVG(CAST(CASE WHEN "answered" THEN "__window1" END AS DOUBLE)) AS "__agg10",
    CAST(COUNT(CASE WHEN "answered" THEN "__window1" END) AS BIGINT) AS "__agg10_n",
    CAST(COALESCE(
      SUM(
        CASE
          WHEN (
            "__window1_censored"
          ) AND COALESCE("answered", TRUE)
          THEN 1
          ELSE 0
        END
      ),
      0
    ) AS BIGINT) AS "__agg10_censored",
    AVG(CAST(CAST("__window2" AS INTEGER) AS DOUBLE)) AS "__agg11",
    CAST(COUNT(CAST(CAST("__window2" AS INTEGER) AS DOUBLE)) AS BIGINT) AS "__agg11_n",
    CAST(COALESCE(SUM(CASE WHEN (
      "__window2_censored"
    ) THEN 1 ELSE 0 END), 0) AS BIGINT) AS "__agg11_censored",
    AVG(CAST(CAST((
      "__window3" + "__window4"
    ) = 0 AS INTEGER) AS DOUBLE)) AS "__agg12",
    CAST(COUNT(CAST(CAST((
      "__window3" + "__window4"
    ) = 0 AS INTEGER) AS DOUBLE)) AS BIGINT) AS "__agg12_n",
    CAST(COALESCE(
      SUM(CASE WHEN (
        "__window3_censored" OR "__window4_censored"
      ) THEN 1 ELSE 0 END),
      0
    ) AS BIGINT) AS "__agg12_censored"
  FROM "__window6"
  GROUP BY
    "contact_reason",
    DATE_TRUNC('week', CAST(CAST(("started_at" AT TIME ZONE 'UTC') AS TIMESTAMP) AS DATE))
), "__level8" AS (
  SELECT
    "contact_reason",
    "__grain",
    "__agg0",
    "__agg0_n",
    "__agg1",
    "__agg1_n",
    "__agg2",
    "__agg2_n",
    "__agg3",
    "__agg3_n",
    "__agg4",
    "__agg4_n",
    "__agg5",
    "__agg5_n",
    "__agg6",
    "__agg6_n",
    "__agg7",
    "__agg7_n",
    "__agg8",
    "__agg8_n",
    "__agg8_censored",
    "__agg9",
    "__agg9_n",
    "__agg9_censored",
    "__agg10",
    "__agg10_n",
    "__agg10_censored",
    "__agg11",
    "__agg11_n",
    "__agg11_censored",
    "__agg12",
    "__agg12_n",
    "__agg12_censored"
  FROM "__groups7"
), "__l1_rows0" AS (
  SELECT
    "started_at"
  FROM "interactions"
), "__l1_groups1" AS (
  SELECT
    DATE_TRUNC('week', CAST(CAST(("started_at" AT TIME ZONE 'UTC') AS TIMESTAMP) AS DATE)) AS "__grain",
    CAST(COUNT(*) AS BIGINT) AS "__agg0",
    CAST(COUNT(*) AS BIGINT) AS "__agg0_n"
  FROM "__l1_rows0"
  GROUP BY
    DATE_TRUNC('week', CAST(CAST(("started_at" AT TIME ZONE 'UTC') AS TIMESTAMP) AS DATE))
), "__level11" AS (
  SELECT
    "__grain",
    "__agg0",
    "__agg0_n"
  FROM "__l1_groups1"
), "__l2_rows0" AS (
  SELECT
    "channel",
    "contact_reason",
    "csat_score",
    "started_at"
  FROM "interactions"
), "__l2_groups1" AS (
  SELECT
    "contact_reason" AS "contact_reason",
    "channel" AS "channel",
    DATE_TRUNC('week', CAST(CAST(("started_at" AT TIME ZONE 'UTC') AS TIMESTAMP) AS DATE)) AS "__grain",
    AVG(CAST(CAST("csat_score" >= 4 AS INTEGER) AS DOUBLE)) AS "__agg0",
    CAST(COUNT(CAST(CAST("csat_score" >= 4 AS INTEGER) AS DOUBLE)) AS BIGINT) AS "__agg0_n"
  FROM "__l2_rows0"
  GROUP BY
    "contact_reason",
    "channel",
    DATE_TRUNC('week', CAST(CAST(("started_at" AT TIME ZONE 'UTC') AS TIMESTAMP) AS DATE))
), "__level14" AS (
  SELECT
    "contact_reason",
    "channel",
    "__grain",
    "__agg0",
    "__agg0_n"
  FROM "__l2_groups1"
), "__groups" AS (
  SELECT
    "contact_reason",
    "__grain",
    "__agg0",
    "__agg0_n",
    "__agg1",
    "__agg1_n",
    "__agg2",
    "__agg2_n",
    "__agg3",
    "__agg3_n",
    "__agg4",
    "__agg4_n",
    "__agg5",
    "__agg5_n",
    "__agg6",
    "__agg6_n",
    "__agg7",
    "__agg7_n",
    "__agg8",
    "__agg8_n",
    "__agg8_censored",
    "__agg9",
    "__agg9_n",
    "__agg9_censored",
    "__agg10",
    "__agg10_n",
    "__agg10_censored",
    "__agg11",
    "__agg11_n",
    "__agg11_censored",
    "__agg12",
    "__agg12_n",
    "__agg12_censored",
    "__l1___grain",
    "__l1___agg0",
    "__l1___agg0_n",
    "__l2_contact_reason",
    "__l2_channel",
    "__l2___grain",
    "__l2___agg0",
    "__l2___agg0_n",
    "__level"
  FROM (
    SELECT
      "t0"."contact_reason" AS "contact_reason",
      "t0"."__grain" AS "__grain",
      "t0"."__agg0" AS "__agg0",
      "t0"."__agg0_n" AS "__agg0_n",
      "t0"."__agg1" AS "__agg1",
      "t0"."__agg1_n" AS "__agg1_n",
      "t0"."__agg2" AS "__agg2",
      "t0"."__agg2_n" AS "__agg2_n",
      "t0"."__agg3" AS "__agg3",
      "t0"."__agg3_n" AS "__agg3_n",
      "t0"."__agg4" AS "__agg4",
      "t0"."__agg4_n" AS "__agg4_n",
      "t0"."__agg5" AS "__agg5",
      "t0"."__agg5_n" AS "__agg5_n",
      "t0"."__agg6" AS "__agg6",
      "t0"."__agg6_n" AS "__agg6_n",
      "t0"."__agg7" AS "__agg7",
      "t0"."__agg7_n" AS "__agg7_n",
      "t0"."__agg8" AS "__agg8",
      "t0"."__agg8_n" AS "__agg8_n",
      "t0"."__agg8_censored" AS "__agg8_censored",
      "t0"."__agg9" AS "__agg9",
      "t0"."__agg9_n" AS "__agg9_n",
      "t0"."__agg9_censored" AS "__agg9_censored",
      "t0"."__agg10" AS "__agg10",
      "t0"."__agg10_n" AS "__agg10_n",
      "t0"."__agg10_censored" AS "__agg10_censored",
      "t0"."__agg11" AS "__agg11",
      "t0"."__agg11_n" AS "__agg11_n",
      "t0"."__agg11_censored" AS "__agg11_censored",
      "t0"."__agg12" AS "__agg12",
      "t0"."__agg12_n" AS "__agg12_n",
      "t0"."__agg12_censored" AS "__agg12_censored",
      "t1"."__grain" AS "__l1___grain",
      "t1"."__agg0" AS "__l1___agg0",
      "t1"."__agg0_n" AS "__l1___agg0_n",
      "t2"."contact_reason" AS "__l2_contact_reason",
      "t2"."channel" AS "__l2_channel",
      "t2"."__grain" AS "__l2___grain",
      "t2"."__agg0" AS "__l2___agg0",
      "t2"."__agg0_n" AS "__l2___agg0_n",
      0 AS "__level"
    FROM "__level8" AS "t0"
    CROSS JOIN "__level11" AS "t1"
    CROSS JOIN "__level14" AS "t2"
    WHERE
      FALSE
    UNION ALL
    SELECT
      "contact_reason" AS "contact_reason",
      "__grain" AS "__grain",
      "__agg0" AS "__agg0",
      "__agg0_n" AS "__agg0_n",
      "__agg1" AS "__agg1",
      "__agg1_n" AS "__agg1_n",
      "__agg2" AS "__agg2",
      "__agg2_n" AS "__agg2_n",
      "__agg3" AS "__agg3",
      "__agg3_n" AS "__agg3_n",
      "__agg4" AS "__agg4",
      "__agg4_n" AS "__agg4_n",
      "__agg5" AS "__agg5",
      "__agg5_n" AS "__agg5_n",
      "__agg6" AS "__agg6",
      "__agg6_n" AS "__agg6_n",
      "__agg7" AS "__agg7",
      "__agg7_n" AS "__agg7_n",
      "__agg8" AS "__agg8",
      "__agg8_n" AS "__agg8_n",
      "__agg8_censored" AS "__agg8_censored",
      "__agg9" AS "__agg9",
      "__agg9_n" AS "__agg9_n",
      "__agg9_censored" AS "__agg9_censored",
      "__agg10" AS "__agg10",
      "__agg10_n" AS "__agg10_n",
      "__agg10_censored" AS "__agg10_censored",
      "__agg11" AS "__agg11",
      "__agg11_n" AS "__agg11_n",
      "__agg11_censored" AS "__agg11_censored",
      "__agg12" AS "__agg12",
      "__agg12_n" AS "__agg12_n",
      "__agg12_censored" AS "__agg12_censored",
      NULL AS "__l1___grain",
      NULL AS "__l1___agg0",
      NULL AS "__l1___agg0_n",
      NULL AS "__l2_contact_reason",
      NULL AS "__l2_channel",
      NULL AS "__l2___grain",
      NULL AS "__l2___agg0",
      NULL AS "__l2___agg0_n",
      0 AS "__level"
    FROM "__level8"
    UNION ALL
    SELECT
      NULL AS "contact_reason",
      NULL AS "__grain",
      NULL AS "__agg0",
      NULL AS "__agg0_n",
      NULL AS "__agg1",
      NULL AS "__agg1_n",
      NULL AS "__agg2",
      NULL AS "__agg2_n",
      NULL AS "__agg3",
      NULL AS "__agg3_n",
      NULL AS "__agg4",
      NULL AS "__agg4_n",
      NULL AS "__agg5",
      NULL AS "__agg5_n",
      NULL AS "__agg6",
      NULL AS "__agg6_n",
      NULL AS "__agg7",
      NULL AS "__agg7_n",
      NULL AS "__agg8",
      NULL AS "__agg8_n",
      NULL AS "__agg8_censored",
      NULL AS "__agg9",
      NULL AS "__agg9_n",
      NULL AS "__agg9_censored",
      NULL AS "__agg10",
      NULL AS "__agg10_n",
      NULL AS "__agg10_censored",
      NULL AS "__agg11",
      NULL AS "__agg11_n",
      NULL AS "__agg11_censored",
      NULL AS "__agg12",
      NULL AS "__agg12_n",
      NULL AS "__agg12_censored",
      "__grain" AS "__l1___grain",
      "__agg0" AS "__l1___agg0",
      "__agg0_n" AS "__l1___agg0_n",
      NULL AS "__l2_contact_reason",
      NULL AS "__l2_channel",
      NULL AS "__l2___grain",
      NULL AS "__l2___agg0",
      NULL AS "__l2___agg0_n",
      1 AS "__level"
    FROM "__level11"
    UNION ALL
    SELECT
      NULL AS "contact_reason",
      NULL AS "__grain",
      NULL AS "__agg0",
      NULL AS "__agg0_n",
      NULL AS "__agg1",
      NULL AS "__agg1_n",
      NULL AS "__agg2",
      NULL AS "__agg2_n",
      NULL AS "__agg3",
      NULL AS "__agg3_n",
      NULL AS "__agg4",
      NULL AS "__agg4_n",
      NULL AS "__agg5",
      NULL AS "__agg5_n",
      NULL AS "__agg6",
      NULL AS "__agg6_n",
      NULL AS "__agg7",
      NULL AS "__agg7_n",
      NULL AS "__agg8",
      NULL AS "__agg8_n",
      NULL AS "__agg8_censored",
      NULL AS "__agg9",
      NULL AS "__agg9_n",
      NULL AS "__agg9_censored",
      NULL AS "__agg10",
      NULL AS "__agg10_n",
      NULL AS "__agg10_censored",
      NULL AS "__agg11",
      NULL AS "__agg11_n",
      NULL AS "__agg11_censored",
      NULL AS "__agg12",
      NULL AS "__agg12_n",
      NULL AS "__agg12_censored",
      NULL AS "__l1___grain",
      NULL AS "__l1___agg0",
      NULL AS "__l1___agg0_n",
      "contact_reason" AS "__l2_contact_reason",
      "channel" AS "__l2_channel",
      "__grain" AS "__l2___grain",
      "__agg0" AS "__l2___agg0",
      "__agg0_n" AS "__l2___agg0_n",
      2 AS "__level"
    FROM "__level14"
  ) AS "s"
), "__own" AS (
  SELECT
    "contact_reason",
    "__grain",
    "__agg0",
    "__agg0_n",
    "__agg1",
    "__agg1_n",
    "__agg2",
    "__agg2_n",
    "__agg3",
    "__agg3_n",
    "__agg4",
    "__agg4_n",
    "__agg5",
    "__agg5_n",
    "__agg6",
    "__agg6_n",
    "__agg7",
    "__agg7_n",
    "__agg8",
    "__agg8_n",
    "__agg8_censored",
    "__agg9",
    "__agg9_n",
    "__agg9_censored",
    "__agg10",
    "__agg10_n",
    "__agg10_censored",
    "__agg11",
    "__agg11_n",
    "__agg11_censored",
    "__agg12",
    "__agg12_n",
    "__agg12_censored"
  FROM "__groups"
  WHERE
    "__level" = 0
), "__bounds" AS (
  SELECT
    MIN("__own"."__grain") AS "__first",
    MAX("__own"."__grain") AS "__last"
  FROM "__own"
), "__periods" AS (
  SELECT
    "__start" AS "__grain"
  FROM UNNEST(SEQUENCE(
    (
      SELECT
        "__bounds"."__first"
      FROM "__bounds"
    ),
    (
      SELECT
        "__bounds"."__last"
      FROM "__bounds"
    ),
    (1 * INTERVAL '7' DAY)
  )) AS "__series"("__start")
), "__keys" AS (
  SELECT DISTINCT
    "contact_reason"
  FROM "__own"
), "__complete" AS (
  SELECT
    "__keys"."contact_reason",
    "__periods"."__grain",
    COALESCE("__own"."__agg0", 0) AS "__agg0",
    COALESCE("__own"."__agg0_n", 0) AS "__agg0_n",
    "__own"."__agg1" AS "__agg1",
    COALESCE("__own"."__agg1_n", 0) AS "__agg1_n",
    "__own"."__agg2" AS "__agg2",
    COALESCE("__own"."__agg2_n", 0) AS "__agg2_n",
    "__own"."__agg3" AS "__agg3",
    COALESCE("__own"."__agg3_n", 0) AS "__agg3_n",
    "__own"."__agg4" AS "__agg4",
    COALESCE("__own"."__agg4_n", 0) AS "__agg4_n",
    "__own"."__agg5" AS "__agg5",
    COALESCE("__own"."__agg5_n", 0) AS "__agg5_n",
    "__own"."__agg6" AS "__agg6",
    COALESCE("__own"."__agg6_n", 0) AS "__agg6_n",
    "__own"."__agg7" AS "__agg7",
    COALESCE("__own"."__agg7_n", 0) AS "__agg7_n",
    "__own"."__agg8" AS "__agg8",
    COALESCE("__own"."__agg8_n", 0) AS "__agg8_n",
    COALESCE("__own"."__agg8_censored", 0) AS "__agg8_censored",
    "__own"."__agg9" AS "__agg9",
    COALESCE("__own"."__agg9_n", 0) AS "__agg9_n",
    COALESCE("__own"."__agg9_censored", 0) AS "__agg9_censored",
    "__own"."__agg10" AS "__agg10",
    COALESCE("__own"."__agg10_n", 0) AS "__agg10_n",
    COALESCE("__own"."__agg10_censored", 0) AS "__agg10_censored",
    "__own"."__agg11" AS "__agg11",
    COALESCE("__own"."__agg11_n", 0) AS "__agg11_n",
    COALESCE("__own"."__agg11_censored", 0) AS "__agg11_censored",
    "__own"."__agg12" AS "__agg12",
    COALESCE("__own"."__agg12_n", 0) AS "__agg12_n",
    COALESCE("__own"."__agg12_censored", 0) AS "__agg12_censored"
  FROM "__keys"
  CROSS JOIN "__periods"
  LEFT JOIN "__own"
    ON "__keys"."contact_reason" IS NOT DISTINCT FROM "__own"."contact_reason"
    AND "__periods"."__grain" = "__own"."__grain"
  UNION ALL
  SELECT
    "contact_reason",
    "__grain",
    "__agg0",
    "__agg0_n",
    "__agg1",
    "__agg1_n",
    "__agg2",
    "__agg2_n",
    "__agg3",
    "__agg3_n",
    "__agg4",
    "__agg4_n",
    "__agg5",
    "__agg5_n",
    "__agg6",
    "__agg6_n",
    "__agg7",
    "__agg7_n",
    "__agg8",
    "__agg8_n",
    "__agg8_censored",
    "__agg9",
    "__agg9_n",
    "__agg9_censored",
    "__agg10",
    "__agg10_n",
    "__agg10_censored",
    "__agg11",
    "__agg11_n",
    "__agg11_censored",
    "__agg12",
    "__agg12_n",
    "__agg12_censored"
  FROM "__own"
  WHERE
    "__grain" IS NULL
), "__numbered" AS (
  SELECT
    *,
    CAST(DATE_DIFF('DAY', CAST('1970-01-05' AS DATE), "__grain") AS BIGINT) AS "__period"
  FROM "__complete"
), "__split1" AS (
  SELECT
    "__l1___grain" AS "__grain",
    "__l1___agg0" AS "__agg0",
    "__l1___agg0_n" AS "__agg0_n"
  FROM "__groups"
  WHERE
    "__level" = 1
), "__l1__own" AS (
  SELECT
    "__grain",
    "__agg0",
    "__agg0_n",
    TRUE AS "__present"
  FROM "__split1"
), "__l1__bounds" AS (
  SELECT
    MIN("__l1__own"."__grain") AS "__first",
    MAX("__l1__own"."__grain") AS "__last"
  FROM "__l1__own"
), "__l1__periods" AS (
  SELECT
    "__start" AS "__grain"
  FROM UNNEST(SEQUENCE(
    (
      SELECT
        "__l1__bounds"."__first"
      FROM "__l1__bounds"
    ),
    (
      SELECT
        "__l1__bounds"."__last"
      FROM "__l1__bounds"
    ),
    (1 * INTERVAL '7' DAY)
  )) AS "__series"("__start")
), "__l1__complete" AS (
  SELECT
    "__l1__periods"."__grain",
    COALESCE("__l1__own"."__agg0", 0) AS "__agg0",
    COALESCE("__l1__own"."__agg0_n", 0) AS "__agg0_n",
    "__l1__own"."__present" AS "__present"
  FROM "__l1__periods"
  LEFT JOIN "__l1__own"
    ON "__l1__periods"."__grain" = "__l1__own"."__grain"
  UNION ALL
  SELECT
    "__grain",
    "__agg0",
    "__agg0_n",
    "__present"
  FROM "__l1__own"
  WHERE
    "__grain" IS NULL
), "__l1__numbered" AS (
  SELECT
    *,
    CAST(DATE_DIFF('DAY', CAST('1970-01-05' AS DATE), "__grain") AS BIGINT) AS "__period"
  FROM "__l1__complete"
), "__l1__layer0" AS (
  SELECT
    *,
    "__agg0" AS "__value_contacts",
    CAST("__agg0_n" AS BIGINT) AS "__n_contacts"
  FROM "__l1__numbered"
), "__l1__metrics0" AS (
  SELECT
    *,
    "__value_contacts" AS "contacts"
  FROM "__l1__layer0"
), "__l1__output" AS (
  SELECT
    "__grain",
    COALESCE("__present", FALSE) AS "__present",
    "contacts" AS "__target0",
    FALSE AS "__target0_pending"
  FROM "__l1__metrics0"
), "__across1" AS (
  SELECT
    "__grain",
    "__target0" AS "__across0_value",
    "__target0_pending" AS "__across0_pending"
  FROM "__l1__output"
), "__with_level1" AS (
  SELECT
    "__numbered".*,
    "__across1"."__across0_value",
    "__across1"."__across0_pending"
  FROM "__numbered"
  LEFT JOIN "__across1"
    ON "__numbered"."__grain" IS NOT DISTINCT FROM "__across1"."__grain"
), "__split2" AS (
  SELECT
    "__l2_contact_reason" AS "contact_reason",
    "__l2_channel" AS "channel",
    "__l2___grain" AS "__grain",
    "__l2___agg0" AS "__agg0",
    "__l2___agg0_n" AS "__agg0_n"
  FROM "__groups"
  WHERE
    "__level" = 2
), "__l2__own" AS (
  SELECT
    "contact_reason",
    "channel",
    "__grain",
    "__agg0",
    "__agg0_n",
    TRUE AS "__present"
  FROM "__split2"
), "__l2__bounds" AS (
  SELECT
    MIN("__l2__own"."__grain") AS "__first",
    MAX("__l2__own"."__grain") AS "__last"
  FROM "__l2__own"
), "__l2__periods" AS (
  SELECT
    "__start" AS "__grain"
  FROM UNNEST(SEQUENCE(
    (
      SELECT
        "__l2__bounds"."__first"
      FROM "__l2__bounds"
    ),
    (
      SELECT
        "__l2__bounds"."__last"
      FROM "__l2__bounds"
    ),
    (1 * INTERVAL '7' DAY)
  )) AS "__series"("__start")
), "__l2__keys" AS (
  SELECT DISTINCT
    "contact_reason",
    "channel"
  FROM "__l2__own"
), "__l2__complete" AS (
  SELECT
    "__l2__keys"."contact_reason",
    "__l2__keys"."channel",
    "__l2__periods"."__grain",
    "__l2__own"."__agg0" AS "__agg0",
    COALESCE("__l2__own"."__agg0_n", 0) AS "__agg0_n",
    "__l2__own"."__present" AS "__present"
  FROM "__l2__keys"
  CROSS JOIN "__l2__periods"
  LEFT JOIN "__l2__own"
    ON "__l2__keys"."contact_reason" IS NOT DISTINCT FROM "__l2__own"."contact_reason"
    AND "__l2__keys"."channel" IS NOT DISTINCT FROM "__l2__own"."channel"
    AND "__l2__periods"."__grain" = "__l2__own"."__grain"
  UNION ALL
  SELECT
    "contact_reason",
    "channel",
    "__grain",
    "__agg0",
    "__agg0_n",
    "__present"
  FROM "__l2__own"
  WHERE
    "__grain" IS NULL
), "__l2__numbered" AS (
  SELECT
    *,
    CAST(DATE_DIFF('DAY', CAST('1970-01-05' AS DATE), "__grain") AS BIGINT) AS "__period"
  FROM "__l2__complete"
), "__l2__layer0" AS (
  SELECT
    *,
    "__agg0" AS "__value_csat",
    CAST("__agg0_n" AS BIGINT) AS "__n_csat"
  FROM "__l2__numbered"
), "__l2__metrics0" AS (
  SELECT
    *,
    CASE
      WHEN "__n_csat" >= 30 AND "__value_csat" - "__value_csat" = 0
      THEN "__value_csat"
    END AS "csat"
  FROM "__l2__layer0"
), "__l2__output" AS (
  SELECT
    "contact_reason",
    "channel",
    "__grain",
    COALESCE("__present", FALSE) AS "__present",
    "csat" AS "__target0",
    FALSE AS "__target0_pending"
  FROM "__l2__metrics0"
), "__across2" AS (
  SELECT
    "contact_reason",
    "__grain",
    MAX("__target0") - MIN("__target0") AS "__across1_value",
    MAX(CASE WHEN "__target0_pending" THEN 1 ELSE 0 END) > 0 AS "__across1_pending"
  FROM "__l2__output"
  WHERE
    "__present" AND NOT "channel" IS NULL
  GROUP BY
    "contact_reason",
    "__grain"
), "__with_level2" AS (
  SELECT
    "__with_level1".*,
    "__across2"."__across1_value",
    "__across2"."__across1_pending"
  FROM "__with_level1"
  LEFT JOIN "__across2"
    ON "__with_level1"."contact_reason" IS NOT DISTINCT FROM "__across2"."contact_reason"
    AND "__with_level1"."__grain" IS NOT DISTINCT FROM "__across2"."__grain"
), "__layer0" AS (
  SELECT
    *,
    "__agg0" AS "__value_contacts",
    CAST("__agg0_n" AS BIGINT) AS "__n_contacts",
    "__agg1" AS "__value_acsi",
    CAST("__agg1_n" AS BIGINT) AS "__n_acsi",
    100 * (
      "__agg2" - "__agg3"
    ) AS "__value_nps",
    CAST(LEAST(COALESCE("__agg2_n", "__agg3_n"), COALESCE("__agg3_n", "__agg2_n")) AS BIGINT) AS "__n_nps",
    "__agg4" AS "__value_csat",
    CAST("__agg4_n" AS BIGINT) AS "__n_csat",
    "__agg5" AS "__value_ces",
    CAST("__agg5_n" AS BIGINT) AS "__n_ces",
    "__agg6" AS "__value_fcr_reported",
    CAST("__agg6_n" AS BIGINT) AS "__n_fcr_reported",
    "__agg7" AS "__value_sentiment",
    CAST("__agg7_n" AS BIGINT) AS "__n_sentiment",
    "__agg8" AS "__value_fcr",
    CAST("__agg8_n" AS BIGINT) AS "__n_fcr",
    "__agg9" AS "__value_repeat_rate",
    CAST("__agg9_n" AS BIGINT) AS "__n_repeat_rate",
    "__agg10" AS "__value_repeat_contacts_7d",
    CAST("__agg10_n" AS BIGINT) AS "__n_repeat_contacts_7d",
    "__agg11" AS "__value_buy_again_30d",
    CAST("__agg11_n" AS BIGINT) AS "__n_buy_again_30d",
    "__agg12" AS "__value_churn_90d",
    CAST("__agg12_n" AS BIGINT) AS "__n_churn_90d"
  FROM "__with_level2"
), "__metrics0" AS (
  SELECT
    *,
    "__value_contacts" AS "contacts",
    CASE
      WHEN "__n_acsi" >= 30 AND "__value_acsi" - "__value_acsi" = 0
      THEN "__value_acsi"
    END AS "acsi",
    CASE
      WHEN "__n_nps" >= 30 AND "__value_nps" - "__value_nps" = 0
      THEN "__value_nps"
    END AS "nps",
    CASE
      WHEN "__n_csat" >= 30 AND "__value_csat" - "__value_csat" = 0
      THEN "__value_csat"
    END AS "csat",
    CASE
      WHEN "__n_ces" >= 30 AND "__value_ces" - "__value_ces" = 0
      THEN "__value_ces"
    END AS "ces",
    CASE
      WHEN "__n_fcr_reported" >= 30 AND "__value_fcr_reported" - "__value_fcr_reported" = 0
      THEN "__value_fcr_reported"
    END AS "fcr_reported",
    CASE
      WHEN "__value_sentiment" - "__value_sentiment" = 0
      THEN "__value_sentiment"
    END AS "sentiment",
    CASE WHEN "__value_fcr" - "__value_fcr" = 0 THEN "__value_fcr" END AS "fcr",
    CASE
      WHEN "__value_repeat_rate" - "__value_repeat_rate" = 0
      THEN "__value_repeat_rate"
    END AS "repeat_rate",
    CASE
      WHEN "__value_repeat_contacts_7d" - "__value_repeat_contacts_7d" = 0
      THEN "__value_repeat_contacts_7d"
    END AS "repeat_contacts_7d",
    CASE
      WHEN "__value_buy_again_30d" - "__value_buy_again_30d" = 0
      THEN "__value_buy_again_30d"
    END AS "buy_again_30d",
    CASE
      WHEN "__value_churn_90d" - "__value_churn_90d" = 0
      THEN "__value_churn_90d"
    END AS "churn_90d"
  FROM "__layer0"
), "__layer1" AS (
  SELECT
    *,
    CASE
      WHEN "__across0_value" <> 0
      THEN CAST("contacts" AS DOUBLE) / CAST("__across0_value" AS DOUBLE)
    END AS "__value_reason_share",
    CAST("__n_contacts" AS BIGINT) AS "__n_reason_share",
    "__across1_value" AS "__value_csat_channel_spread",
    CAST("__n_csat" AS BIGINT) AS "__n_csat_channel_spread"
  FROM "__metrics0"
), "__metrics1" AS (
  SELECT
    *,
    CASE
      WHEN "__value_reason_share" - "__value_reason_share" = 0
      THEN "__value_reason_share"
    END AS "reason_share",
    CASE
      WHEN "__value_csat_channel_spread" - "__value_csat_channel_spread" = 0
      THEN "__value_csat_channel_spread"
    END AS "csat_channel_spread"
  FROM "__layer1"
)
SELECT
  "contact_reason",
  CAST(CAST(YEAR(CAST(DATE_ADD('DAY', 3, "__grain") AS DATE)) AS BIGINT) AS VARCHAR) || '-W' || CAST(LPAD(
    CAST(CAST(FLOOR(
      CAST(DATE_DIFF(
        'DAY',
        DATE_TRUNC('YEAR', CAST(DATE_ADD('DAY', 3, "__grain") AS DATE)),
        CAST(DATE_ADD('DAY', 3, "__grain") AS DATE)
      ) AS DOUBLE) / 7
    ) AS BIGINT) + 1 AS VARCHAR),
    2,
    '0'
  ) AS VARCHAR) AS "week",
  "reason_share",
  "contacts",
  "acsi",
  "nps",
  "csat",
  "ces",
  "fcr_reported",
  "sentiment",
  "fcr",
  "repeat_rate",
  "repeat_contacts_7d",
  "buy_again_30d",
  "churn_90d",
  "csat_channel_spread",
  COALESCE("__agg8_censored", 0) > 0
  OR COALESCE("__agg9_censored", 0) > 0
  OR COALESCE("__agg10_censored", 0) > 0
  OR COALESCE("__agg11_censored", 0) > 0
  OR COALESCE("__agg12_censored", 0) > 0
  OR COALESCE("__across0_pending", FALSE)
  OR COALESCE("__across1_pending", FALSE) AS "provisional"
FROM "__metrics1"
ORDER BY
  "contact_reason",
  "__grain"
