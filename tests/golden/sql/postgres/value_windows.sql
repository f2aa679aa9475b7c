WITH "__rows0" AS (
  SELECT
    "customer_id",
    "started_at"
  FROM "interactions"
), "__rows1" AS (
  SELECT
    "amount",
    "cross_sell",
    "customer_id",
    "ordered_at"
  FROM "orders"
), "__window2" AS (
  SELECT
    "started_at",
    "__key0",
    "__time",
    "__host",
    COUNT("__at0") OVER (
      PARTITION BY "__key0"
      ORDER BY "__time" NULLS FIRST
      RANGE BETWEEN 1 FOLLOWING AND 604800000000 FOLLOWING
    ) AS "__nearest0",
    MIN("__at1") OVER (
      PARTITION BY "__key0"
      ORDER BY "__time" NULLS FIRST
      RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE GROUP
    ) AS "__nearest1",
    SUM("__add2") OVER (
      PARTITION BY "__key0"
      ORDER BY "__time" NULLS FIRST
      RANGE BETWEEN 1 FOLLOWING AND 2592000000000 FOLLOWING
    ) AS "__nearest2"
  FROM (
    SELECT
      "started_at",
      "customer_id" AS "__key0",
      CAST(EXTRACT(EPOCH FROM "started_at") * 1000000 AS BIGINT) AS "__time",
      1 AS "__host",
      CASE
        WHEN NOT "customer_id" IS NULL
        AND NOT CAST(EXTRACT(EPOCH FROM "started_at") * 1000000 AS BIGINT) IS NULL
        THEN CAST(EXTRACT(EPOCH FROM "started_at") * 1000000 AS BIGINT)
      END AS "__at0",
      CAST(NULL AS BIGINT) AS "__at1",
      CAST(NULL AS BIGINT) AS "__at2",
      CAST(NULL AS DOUBLE PRECISION) AS "__add2"
    FROM "__rows0"
    UNION ALL
    SELECT
      NULL AS "started_at",
      "customer_id" AS "__key0",
      CAST(EXTRACT(EPOCH FROM "ordered_at") * 1000000 AS BIGINT) AS "__time",
      0 AS "__host",
      CAST(NULL AS BIGINT) AS "__at0",
      CASE
        WHEN (
          "cross_sell"
        )
        AND NOT CAST(EXTRACT(EPOCH FROM "ordered_at") * 1000000 AS BIGINT) IS NULL
        THEN CAST(EXTRACT(EPOCH FROM "ordered_at") * 1000000 AS BIGINT)
      END AS "__at1",
      CASE
        WHEN NOT CAST(EXTRACT(EPOCH FROM "ordered_at") * 1000000 AS BIGINT) IS NULL
        THEN CAST(EXTRACT(EPOCH FROM "ordered_at") * 1000000 AS BIGINT)
      END AS "__at2",
      CAST(CASE
        WHEN NOT CAST(EXTRACT(EPOCH FROM "ordered_at") * 1000000 AS BIGINT) IS NULL
        THEN "amount"
      END AS DOUBLE PRECISION) AS "__add2"
    FROM "__rows1"
    WHERE
      NOT "customer_id" IS NULL
      AND NOT CAST(EXTRACT(EPOCH FROM "ordered_at") * 1000000 AS BIGINT) IS NULL
  ) AS "__stacked"
), "__values3" AS (
  SELECT
    "customer_id" AS "__looked_key0",
    CAST(EXTRACT(EPOCH FROM "ordered_at") * 1000000 AS BIGINT) AS "__looked_time",
    MIN("amount") AS "__looked"
  FROM "__rows1"
  WHERE
    (
      "cross_sell"
    )
    AND NOT "customer_id" IS NULL
    AND NOT CAST(EXTRACT(EPOCH FROM "ordered_at") * 1000000 AS BIGINT) IS NULL
  GROUP BY
    "customer_id",
    CAST(EXTRACT(EPOCH FROM "ordered_at") * 1000000 AS BIGINT)
), "__window4" AS (
  SELECT
    "started_at",
    "__time",
    NOT (
      "__time" IS NULL OR "__key0" IS NULL
    ) AS "__known",
    CASE
      WHEN "__time" IS NULL OR "__key0" IS NULL
      THEN NULL
      ELSE CAST(COALESCE("__nearest0", 0) AS BIGINT)
    END AS "__window0",
    CASE
      WHEN "__time" IS NULL OR "__key0" IS NULL
      THEN NULL
      WHEN "__nearest1" <= "__time" + 2592000000000
      THEN "__v1"."__looked"
    END AS "__window1",
    CASE
      WHEN "__time" IS NULL OR "__key0" IS NULL
      THEN NULL
      ELSE CAST(COALESCE("__nearest2", 0) AS DOUBLE PRECISION)
    END AS "__window2"
  FROM "__window2"
  LEFT JOIN "__values3" AS "__v1"
    ON "__v1"."__looked_key0" = "__key0" AND "__v1"."__looked_time" = "__nearest1"
  WHERE
    "__host" = 1
), "__bounds5" AS (
  SELECT
    MIN(CAST(EXTRACT(EPOCH FROM "started_at") * 1000000 AS BIGINT)) AS "__bounds5_first",
    MAX(CAST(EXTRACT(EPOCH FROM "started_at") * 1000000 AS BIGINT)) AS "__bounds5_last"
  FROM "interactions"
), "__bounds6" AS (
  SELECT
    MIN(CAST(EXTRACT(EPOCH FROM "ordered_at") * 1000000 AS BIGINT)) AS "__bounds6_first",
    MAX(CAST(EXTRACT(EPOCH FROM "ordered_at") * 1000000 AS BIGINT)) AS "__bounds6_last"
  FROM "orders"
), "__window7" AS (
  SELECT
    "started_at",
    CASE
      WHEN "__known" AND COALESCE("__time" + 604800000000 > "__bounds5_last", TRUE)
      THEN NULL
      ELSE "__window0"
    END AS "__window0",
    "__known" AND COALESCE("__time" + 604800000000 > "__bounds5_last", TRUE) AS "__window0_censored",
    CASE
      WHEN "__known" AND COALESCE("__time" + 2592000000000 > "__bounds6_last", TRUE)
      THEN NULL
      ELSE "__window1"
    END AS "__window1",
    "__known" AND COALESCE("__time" + 2592000000000 > "__bounds6_last", TRUE) AS "__window1_censored",
    CASE
      WHEN "__known" AND COALESCE("__time" + 2592000000000 > "__bounds6_last", TRUE)
      THEN NULL
      ELSE "__window2"
    END AS "__window2",
    "__known" AND COALESCE("__time" + 2592000000000 > "__bounds6_last", TRUE) AS "__window2_censored"
  FROM "__window4"
  CROSS JOIN "__bounds5"
  CROSS JOIN "__bounds6"
), "__groups8" AS (
  SELECT
    CAST(DATE_TRUNC('week', CAST(("started_at" AT TIME ZONE 'UTC') AS DATE)) AS DATE) AS "__grain",
    AVG(CAST("__window0" AS DOUBLE PRECISION)) AS "__agg0",
    CAST(COUNT("__window0") AS BIGINT) AS "__agg0_n",
    CAST(COALESCE(SUM(CASE WHEN (
      "__window0_censored"
    ) THEN 1 ELSE 0 END), 0) AS BIGINT) AS "__agg0_censored",
    AVG(CAST("__window1" AS DOUBLE PRECISION)) AS "__agg1",
    CAST(COUNT("__window1") AS BIGINT) AS "__agg1_n",
    CAST(COALESCE(SUM(CASE WHEN (
      "__window1_censored"
    ) THEN 1 ELSE 0 END), 0) AS BIGINT) AS "__agg1_censored",
    SUM("__window2") AS "__agg3",
    CAST(COUNT("__window2") AS BIGINT) AS "__agg3_n",
    CAST(COALESCE(SUM(CASE WHEN (
      "__window2_censored"
    ) THEN 1 ELSE 0 END), 0) AS BIGINT) AS "__agg3_censored"
  FROM "__window7"
  GROUP BY
    CAST(DATE_TRUNC('week', CAST(("started_at" AT TIME ZONE 'UTC') AS DATE)) AS DATE)
), "__rows9" AS (
  SELECT
    "amount",
    "customer_id",
    "ordered_at"
  FROM "orders"
), "__rows10" AS (
  SELECT
    "customer_id",
    "started_at",
    "team"
  FROM "interactions"
), "__window11" AS (
  SELECT
    "amount",
    "ordered_at",
    "__key0",
    "__time",
    "__host",
    MAX("__at0") OVER (
      PARTITION BY "__key0"
      ORDER BY "__time" NULLS FIRST
      RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE GROUP
    ) AS "__nearest0"
  FROM (
    SELECT
      "amount",
      "ordered_at",
      "customer_id" AS "__key0",
      CAST(EXTRACT(EPOCH FROM "ordered_at") * 1000000 AS BIGINT) AS "__time",
      1 AS "__host",
      CAST(NULL AS BIGINT) AS "__at0"
    FROM "__rows9"
    UNION ALL
    SELECT
      NULL AS "amount",
      NULL AS "ordered_at",
      "customer_id" AS "__key0",
      CAST(EXTRACT(EPOCH FROM "started_at") * 1000000 AS BIGINT) AS "__time",
      0 AS "__host",
      CASE
        WHEN NOT CAST(EXTRACT(EPOCH FROM "started_at") * 1000000 AS BIGINT) IS NULL
        THEN CAST(EXTRACT(EPOCH FROM "started_at") * 1000000 AS BIGINT)
      END AS "__at0"
    FROM "__rows10"
    WHERE
      NOT "customer_id" IS NULL
      AND NOT CAST(EXTRACT(EPOCH FROM "started_at") * 1000000 AS BIGINT) IS NULL
  ) AS "__stacked"
), "__values12" AS (
  SELECT
    "customer_id" AS "__looked_key0",
    CAST(EXTRACT(EPOCH FROM "started_at") * 1000000 AS BIGINT) AS "__looked_time",
    MIN("team") AS "__looked"
  FROM "__rows10"
  WHERE
    NOT "customer_id" IS NULL
    AND NOT CAST(EXTRACT(EPOCH FROM "started_at") * 1000000 AS BIGINT) IS NULL
  GROUP BY
    "customer_id",
    CAST(EXTRACT(EPOCH FROM "started_at") * 1000000 AS BIGINT)
), "__window13" AS (
  SELECT
    "amount",
    "ordered_at",
    "__time",
    NOT (
      "__time" IS NULL OR "__key0" IS NULL
    ) AS "__known",
    CASE
      WHEN "__time" IS NULL OR "__key0" IS NULL
      THEN NULL
      WHEN "__nearest0" >= "__time" - 2592000000000
      THEN "__v0"."__looked"
    END AS "__window3"
  FROM "__window11"
  LEFT JOIN "__values12" AS "__v0"
    ON "__v0"."__looked_key0" = "__key0" AND "__v0"."__looked_time" = "__nearest0"
  WHERE
    "__host" = 1
), "__window14" AS (
  SELECT
    "amount",
    "ordered_at",
    CASE
      WHEN "__known" AND COALESCE("__time" - 2592000000000 < "__bounds5_first", TRUE)
      THEN NULL
      ELSE "__window3"
    END AS "__window3",
    "__known" AND COALESCE("__time" - 2592000000000 < "__bounds5_first", TRUE) AS "__window3_censored"
  FROM "__window13"
  CROSS JOIN "__bounds5"
), "__groups15" AS (
  SELECT
    CAST(DATE_TRUNC('week', CAST(("ordered_at" AT TIME ZONE 'UTC') AS DATE)) AS DATE) AS "__grain",
    SUM(CASE WHEN (
      "__window3" = 'north'
    ) THEN "amount" END) AS "__agg2",
    CAST(COUNT(CASE WHEN (
      "__window3" = 'north'
    ) THEN "amount" END) AS BIGINT) AS "__agg2_n",
    CAST(COALESCE(
      SUM(
        CASE
          WHEN (
            "__window3_censored"
          ) AND COALESCE((
            "__window3" = 'north'
          ), TRUE)
          THEN 1
          ELSE 0
        END
      ),
      0
    ) AS BIGINT) AS "__agg2_censored"
  FROM "__window14"
  GROUP BY
    CAST(DATE_TRUNC('week', CAST(("ordered_at" AT TIME ZONE 'UTC') AS DATE)) AS DATE)
), "__joined16" AS (
  SELECT
    COALESCE("l"."__grain", "r"."__grain") AS "__grain",
    "l"."__agg0",
    "l"."__agg0_n",
    "l"."__agg0_censored",
    "l"."__agg1",
    "l"."__agg1_n",
    "l"."__agg1_censored",
    "l"."__agg3",
    "l"."__agg3_n",
    "l"."__agg3_censored",
    "r"."__agg2",
    "r"."__agg2_n",
    "r"."__agg2_censored"
  FROM "__groups8" AS "l"
  FULL OUTER JOIN "__groups15" AS "r"
    ON (
      (
        "l"."__grain" IS NULL
      ) = (
        "r"."__grain" IS NULL
      )
      AND COALESCE(CAST("l"."__grain" AS TEXT), '') = COALESCE(CAST("r"."__grain" AS TEXT), '')
    )
), "__groups" AS (
  SELECT
    "__grain",
    "__agg0",
    COALESCE("__agg0_n", 0) AS "__agg0_n",
    "__agg0_censored",
    "__agg1",
    COALESCE("__agg1_n", 0) AS "__agg1_n",
    "__agg1_censored",
    "__agg3",
    COALESCE("__agg3_n", 0) AS "__agg3_n",
    "__agg3_censored",
    "__agg2",
    COALESCE("__agg2_n", 0) AS "__agg2_n",
    "__agg2_censored"
  FROM "__joined16"
), "__bounds" AS (
  SELECT
    MIN("__groups"."__grain") AS "__first",
    MAX("__groups"."__grain") AS "__last"
  FROM "__groups"
), "__periods" AS (
  SELECT
    "__start" AS "__grain"
  FROM (
    SELECT
      CAST(value AS DATE)
    FROM GENERATE_SERIES(
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
      INTERVAL '1 WEEK'
    ) AS _t(value)
  ) AS "__series"("__start")
), "__complete" AS (
  SELECT
    "__periods"."__grain",
    "__groups"."__agg0" AS "__agg0",
    COALESCE("__groups"."__agg0_n", 0) AS "__agg0_n",
    COALESCE("__groups"."__agg0_censored", 0) AS "__agg0_censored",
    "__groups"."__agg1" AS "__agg1",
    COALESCE("__groups"."__agg1_n", 0) AS "__agg1_n",
    COALESCE("__groups"."__agg1_censored", 0) AS "__agg1_censored",
    "__groups"."__agg3" AS "__agg3",
    COALESCE("__groups"."__agg3_n", 0) AS "__agg3_n",
    COALESCE("__groups"."__agg3_censored", 0) AS "__agg3_censored",
    "__groups"."__agg2" AS "__agg2",
    COALESCE("__groups"."__agg2_n", 0) AS "__agg2_n",
    COALESCE("__groups"."__agg2_censored", 0) AS "__agg2_censored"
  FROM "__periods"
  LEFT JOIN "__groups"
    ON "__periods"."__grain" = "__groups"."__grain"
  UNION ALL
  SELECT
    "__grain",
    "__agg0",
    "__agg0_n",
    "__agg0_censored",
    "__agg1",
    "__agg1_n",
    "__agg1_censored",
    "__agg3",
    "__agg3_n",
    "__agg3_censored",
    "__agg2",
    "__agg2_n",
    "__agg2_censored"
  FROM "__groups"
  WHERE
    "__grain" IS NULL
), "__numbered" AS (
  SELECT
    *,
    CAST(CAST(EXTRACT(epoch FROM CAST("__grain" AS TIMESTAMP) - CAST(CAST('1970-01-05' AS DATE) AS TIMESTAMP)) / 86400 AS BIGINT) AS BIGINT) AS "__period"
  FROM "__complete"
), "__layer0" AS (
  SELECT
    *,
    "__agg0" AS "__value_contacts_after",
    CAST("__agg0_n" AS BIGINT) AS "__n_contacts_after",
    "__agg1" AS "__value_next_order_amount",
    CAST("__agg1_n" AS BIGINT) AS "__n_next_order_amount",
    "__agg2" AS "__value_north_credited_revenue",
    CAST("__agg2_n" AS BIGINT) AS "__n_north_credited_revenue",
    "__agg3" AS "__value_revenue_after",
    CAST("__agg3_n" AS BIGINT) AS "__n_revenue_after"
  FROM "__numbered"
), "__metrics0" AS (
  SELECT
    *,
    CASE
      WHEN "__value_contacts_after" - "__value_contacts_after" = 0
      THEN "__value_contacts_after"
    END AS "contacts_after",
    CASE
      WHEN "__value_next_order_amount" - "__value_next_order_amount" = 0
      THEN "__value_next_order_amount"
    END AS "next_order_amount",
    CASE
      WHEN "__value_north_credited_revenue" - "__value_north_credited_revenue" = 0
      THEN "__value_north_credited_revenue"
    END AS "north_credited_revenue",
    CASE
      WHEN "__value_revenue_after" - "__value_revenue_after" = 0
      THEN "__value_revenue_after"
    END AS "revenue_after"
  FROM "__layer0"
)
SELECT
  CAST(CAST(EXTRACT(YEAR FROM CAST("__grain" + INTERVAL '3 DAY' AS DATE)) AS BIGINT) AS VARCHAR) || '-W' || CAST(LPAD(
    CAST(CAST(FLOOR(
      CAST(CAST(EXTRACT(epoch FROM CAST(CAST("__grain" + INTERVAL '3 DAY' AS DATE) AS TIMESTAMP) - CAST(DATE_TRUNC('YEAR', CAST("__grain" + INTERVAL '3 DAY' AS DATE)) AS TIMESTAMP)) / 86400 AS BIGINT) AS DOUBLE PRECISION) / 7
    ) AS BIGINT) + 1 AS VARCHAR),
    2,
    '0'
  ) AS VARCHAR) AS "week",
  "contacts_after",
  "next_order_amount",
  "north_credited_revenue",
  "revenue_after",
  COALESCE("__agg0_censored", 0) > 0
  OR COALESCE("__agg1_censored", 0) > 0
  OR COALESCE("__agg2_censored", 0) > 0
  OR COALESCE("__agg3_censored", 0) > 0 AS "provisional"
FROM "__metrics0"
ORDER BY
  "__grain"
