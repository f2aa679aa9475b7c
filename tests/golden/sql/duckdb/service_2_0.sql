WITH "__rows0" AS (
  SELECT
    "answered",
    "channel",
    "csat_score",
    "customer_id",
    "effort_score",
    "fcr_reported",
    "hold_s",
    "nps_score",
    "sale",
    "sentiment_score",
    "started_at",
    "talk_s",
    "team",
    "transferred",
    "wait_s",
    "wrap_s"
  FROM "interactions"
), "__rows1" AS (
  SELECT
    "amount",
    "cross_sell",
    "customer_id",
    "ordered_at",
    "referred_by"
  FROM "orders"
), "__window2" AS (
  SELECT
    "answered",
    "channel",
    "csat_score",
    "effort_score",
    "fcr_reported",
    "hold_s",
    "nps_score",
    "sale",
    "sentiment_score",
    "started_at",
    "talk_s",
    "team",
    "transferred",
    "wait_s",
    "wrap_s",
    "__key0",
    "__time",
    "__host",
    MIN("__at0") OVER (
      PARTITION BY "__key0"
      ORDER BY "__time" NULLS FIRST
      RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE GROUP
    ) AS "__nearest0",
    MIN("__at1") OVER (
      PARTITION BY "__key0"
      ORDER BY "__time" NULLS FIRST
      RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE GROUP
    ) AS "__nearest1",
    MIN("__at2") OVER (
      PARTITION BY "__key0"
      ORDER BY "__time" NULLS FIRST
      RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE GROUP
    ) AS "__nearest2",
    MIN("__at3") OVER (
      PARTITION BY "__key0"
      ORDER BY "__time" NULLS FIRST
      RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE GROUP
    ) AS "__nearest3"
  FROM (
    SELECT
      "answered",
      "channel",
      "csat_score",
      "effort_score",
      "fcr_reported",
      "hold_s",
      "nps_score",
      "sale",
      "sentiment_score",
      "started_at",
      "talk_s",
      "team",
      "transferred",
      "wait_s",
      "wrap_s",
      "customer_id" AS "__key0",
      EPOCH_US("started_at") AS "__time",
      1 AS "__host",
      CASE
        WHEN NOT "customer_id" IS NULL AND NOT EPOCH_US("started_at") IS NULL
        THEN EPOCH_US("started_at")
      END AS "__at0",
      CAST(NULL AS BIGINT) AS "__at1",
      CAST(NULL AS BIGINT) AS "__at2",
      CAST(NULL AS BIGINT) AS "__at3"
    FROM "__rows0"
    UNION ALL
    SELECT
      NULL AS "answered",
      NULL AS "channel",
      NULL AS "csat_score",
      NULL AS "effort_score",
      NULL AS "fcr_reported",
      NULL AS "hold_s",
      NULL AS "nps_score",
      NULL AS "sale",
      NULL AS "sentiment_score",
      NULL AS "started_at",
      NULL AS "talk_s",
      NULL AS "team",
      NULL AS "transferred",
      NULL AS "wait_s",
      NULL AS "wrap_s",
      "customer_id" AS "__key0",
      EPOCH_US("ordered_at") AS "__time",
      0 AS "__host",
      CAST(NULL AS BIGINT) AS "__at0",
      CASE
        WHEN (
          "amount" > 0
        ) AND NOT EPOCH_US("ordered_at") IS NULL
        THEN EPOCH_US("ordered_at")
      END AS "__at1",
      CASE
        WHEN (
          (
            "amount" > 0
          ) AND "cross_sell"
        )
        AND NOT EPOCH_US("ordered_at") IS NULL
        THEN EPOCH_US("ordered_at")
      END AS "__at2",
      CAST(NULL AS BIGINT) AS "__at3"
    FROM "__rows1"
    WHERE
      NOT "customer_id" IS NULL
      AND NOT EPOCH_US("ordered_at") IS NULL
      AND (
        (
          "amount" > 0
        ) OR (
          (
            "amount" > 0
          ) AND "cross_sell"
        )
      )
    UNION ALL
    SELECT
      NULL AS "answered",
      NULL AS "channel",
      NULL AS "csat_score",
      NULL AS "effort_score",
      NULL AS "fcr_reported",
      NULL AS "hold_s",
      NULL AS "nps_score",
      NULL AS "sale",
      NULL AS "sentiment_score",
      NULL AS "started_at",
      NULL AS "talk_s",
      NULL AS "team",
      NULL AS "transferred",
      NULL AS "wait_s",
      NULL AS "wrap_s",
      "referred_by" AS "__key0",
      EPOCH_US("ordered_at") AS "__time",
      0 AS "__host",
      CAST(NULL AS BIGINT) AS "__at0",
      CAST(NULL AS BIGINT) AS "__at1",
      CAST(NULL AS BIGINT) AS "__at2",
      CASE
        WHEN (
          "amount" > 0
        ) AND NOT EPOCH_US("ordered_at") IS NULL
        THEN EPOCH_US("ordered_at")
      END AS "__at3"
    FROM "__rows1"
    WHERE
      NOT "referred_by" IS NULL
      AND NOT EPOCH_US("ordered_at") IS NULL
      AND (
        (
          "amount" > 0
        )
      )
  ) AS "__stacked"
), "__window3" AS (
  SELECT
    "answered",
    "channel",
    "csat_score",
    "effort_score",
    "fcr_reported",
    "hold_s",
    "nps_score",
    "sale",
    "sentiment_score",
    "started_at",
    "talk_s",
    "team",
    "transferred",
    "wait_s",
    "wrap_s",
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
      ELSE COALESCE("__nearest1" <= "__time" + 2592000000000, FALSE)
    END AS "__window1",
    CASE
      WHEN "__time" IS NULL OR "__key0" IS NULL
      THEN NULL
      ELSE COALESCE("__nearest2" <= "__time" + 2592000000000, FALSE)
    END AS "__window2",
    CASE
      WHEN "__time" IS NULL OR "__key0" IS NULL
      THEN NULL
      ELSE COALESCE("__nearest3" <= "__time" + 2592000000000, FALSE)
    END AS "__window3"
  FROM "__window2"
  WHERE
    "__host" = 1
), "__bounds4" AS (
  SELECT
    MIN(EPOCH_US("started_at")) AS "__bounds4_first",
    MAX(EPOCH_US("started_at")) AS "__bounds4_last"
  FROM "interactions"
), "__bounds5" AS (
  SELECT
    MIN(EPOCH_US("ordered_at")) AS "__bounds5_first",
    MAX(EPOCH_US("ordered_at")) AS "__bounds5_last"
  FROM "orders"
), "__window6" AS (
  SELECT
    "answered",
    "channel",
    "csat_score",
    "effort_score",
    "fcr_reported",
    "hold_s",
    "nps_score",
    "sale",
    "sentiment_score",
    "started_at",
    "talk_s",
    "team",
    "transferred",
    "wait_s",
    "wrap_s",
    CASE
      WHEN "__known" AND COALESCE("__time" + 604800000000 > "__bounds4_last", TRUE)
      THEN NULL
      ELSE "__window0"
    END AS "__window0",
    "__known" AND COALESCE("__time" + 604800000000 > "__bounds4_last", TRUE) AS "__window0_censored",
    CASE
      WHEN "__known" AND COALESCE("__time" + 2592000000000 > "__bounds5_last", TRUE)
      THEN NULL
      ELSE "__window1"
    END AS "__window1",
    "__known" AND COALESCE("__time" + 2592000000000 > "__bounds5_last", TRUE) AS "__window1_censored",
    CASE
      WHEN "__known" AND COALESCE("__time" + 2592000000000 > "__bounds5_last", TRUE)
      THEN NULL
      ELSE "__window2"
    END AS "__window2",
    "__known" AND COALESCE("__time" + 2592000000000 > "__bounds5_last", TRUE) AS "__window2_censored",
    CASE
      WHEN "__known" AND COALESCE("__time" + 2592000000000 > "__bounds5_last", TRUE)
      THEN NULL
      ELSE "__window3"
    END AS "__window3",
    "__known" AND COALESCE("__time" + 2592000000000 > "__bounds5_last", TRUE) AS "__window3_censored"
  FROM "__window3"
  CROSS JOIN "__bounds4"
  CROSS JOIN "__bounds5"
), "__groups7" AS (
  SELECT
    "team" AS "team",
    CAST(DATE_TRUNC('week', CAST(TIMEZONE('UTC', "started_at") AS DATE)) AS DATE) AS "__grain",
    CAST(COUNT(*) AS BIGINT) AS "__agg0",
    CAST(COUNT(*) AS BIGINT) AS "__agg0_n",
    AVG(CAST(CAST("nps_score" >= 9 AS INT) AS DOUBLE)) AS "__agg1",
    CAST(COUNT(CAST(CAST("nps_score" >= 9 AS INT) AS DOUBLE)) AS BIGINT) AS "__agg1_n",
    AVG(CAST(CAST("nps_score" <= 6 AS INT) AS DOUBLE)) AS "__agg2",
    CAST(COUNT(CAST(CAST("nps_score" <= 6 AS INT) AS DOUBLE)) AS BIGINT) AS "__agg2_n",
    AVG(CAST(CAST("csat_score" >= 4 AS INT) AS DOUBLE)) AS "__agg3",
    CAST(COUNT(CAST(CAST("csat_score" >= 4 AS INT) AS DOUBLE)) AS BIGINT) AS "__agg3_n",
    AVG(CAST("effort_score" AS DOUBLE)) AS "__agg4",
    CAST(COUNT("effort_score") AS BIGINT) AS "__agg4_n",
    AVG(CAST(CAST("effort_score" <= 2 AS INT) AS DOUBLE)) AS "__agg5",
    CAST(COUNT(CAST(CAST("effort_score" <= 2 AS INT) AS DOUBLE)) AS BIGINT) AS "__agg5_n",
    AVG(CAST("sentiment_score" AS DOUBLE)) AS "__agg6",
    CAST(COUNT("sentiment_score") AS BIGINT) AS "__agg6_n",
    AVG(CAST(CAST("fcr_reported" AS INT) AS DOUBLE)) AS "__agg7",
    CAST(COUNT(CAST(CAST("fcr_reported" AS INT) AS DOUBLE)) AS BIGINT) AS "__agg7_n",
    AVG(
      CAST(CASE WHEN "answered" THEN CAST(CAST(NOT (
        "__window0"
      ) AS INT) AS DOUBLE) END AS DOUBLE)
    ) AS "__agg8",
    CAST(COUNT(CASE WHEN "answered" THEN CAST(CAST(NOT (
      "__window0"
    ) AS INT) AS DOUBLE) END) AS BIGINT) AS "__agg8_n",
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
      ) AS INT) AS DOUBLE) END AS DOUBLE)
    ) AS "__agg9",
    CAST(COUNT(CASE WHEN "answered" THEN CAST(CAST((
      "__window0"
    ) AS INT) AS DOUBLE) END) AS BIGINT) AS "__agg9_n",
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
    AVG(CAST(CAST("__window1" AS INT) AS DOUBLE)) AS "__agg10",
    CAST(COUNT(CAST(CAST("__window1" AS INT) AS DOUBLE)) AS BIGINT) AS "__agg10_n",
    CAST(COALESCE(SUM(CASE WHEN (
      "__window1_censored"
    ) THEN 1 ELSE 0 END), 0) AS BIGINT) AS "__agg10_censored",
    AVG(CAST(CAST("__window2" AS INT) AS DOUBLE)) AS "__agg11",
    CAST(COUNT(CAST(CAST("__window2" AS INT) AS DOUBLE)) AS BIGINT) AS "__agg11_n",
    CAST(COALESCE(SUM(CASE WHEN (
      "__window2_censored"
    ) THEN 1 ELSE 0 END), 0) AS BIGINT) AS "__agg11_censored",
    AVG(CAST(CAST("__window3" AS INT) AS DOUBLE)) AS "__agg12",
    CAST(COUNT(CAST(CAST("__window3" AS INT) AS DOUBLE)) AS BIGINT) AS "__agg12_n",
    CAST(COALESCE(SUM(CASE WHEN (
      "__window3_censored"
    ) THEN 1 ELSE 0 END), 0) AS BIGINT) AS "__agg12_censored",
    AVG(
      CAST(CASE WHEN "answered" THEN (
        (
          "talk_s" + "hold_s"
        ) + "wrap_s"
      ) END AS DOUBLE)
    ) AS "__agg13",
    CAST(COUNT(CASE WHEN "answered" THEN (
      (
        "talk_s" + "hold_s"
      ) + "wrap_s"
    ) END) AS BIGINT) AS "__agg13_n",
    AVG(
      CAST(CASE WHEN (
        "channel" IN ('phone', 'chat')
      ) AND "answered" THEN "wait_s" END AS DOUBLE)
    ) AS "__agg14",
    CAST(COUNT(CASE WHEN (
      "channel" IN ('phone', 'chat')
    ) AND "answered" THEN "wait_s" END) AS BIGINT) AS "__agg14_n",
    AVG(
      CAST(CASE
        WHEN (
          "channel" IN ('phone', 'chat')
        )
        AND (
          NOT (
            (
              NOT "answered"
            ) AND (
              "wait_s" < CAST(5.0 AS DOUBLE)
            )
          )
        )
        THEN CAST(CAST("answered" AND (
          "wait_s" <= CAST(20.0 AS DOUBLE)
        ) AS INT) AS DOUBLE)
      END AS DOUBLE)
    ) AS "__agg15",
    CAST(COUNT(
      CASE
        WHEN (
          "channel" IN ('phone', 'chat')
        )
        AND (
          NOT (
            (
              NOT "answered"
            ) AND (
              "wait_s" < CAST(5.0 AS DOUBLE)
            )
          )
        )
        THEN CAST(CAST("answered" AND (
          "wait_s" <= CAST(20.0 AS DOUBLE)
        ) AS INT) AS DOUBLE)
      END
    ) AS BIGINT) AS "__agg15_n",
    AVG(
      CAST(CASE
        WHEN (
          "channel" IN ('phone', 'chat')
        )
        AND (
          NOT (
            (
              NOT "answered"
            ) AND (
              "wait_s" < CAST(5.0 AS DOUBLE)
            )
          )
        )
        THEN CAST(CAST((
          NOT "answered"
        ) AS INT) AS DOUBLE)
      END AS DOUBLE)
    ) AS "__agg16",
    CAST(COUNT(
      CASE
        WHEN (
          "channel" IN ('phone', 'chat')
        )
        AND (
          NOT (
            (
              NOT "answered"
            ) AND (
              "wait_s" < CAST(5.0 AS DOUBLE)
            )
          )
        )
        THEN CAST(CAST((
          NOT "answered"
        ) AS INT) AS DOUBLE)
      END
    ) AS BIGINT) AS "__agg16_n",
    AVG(
      CAST(CASE WHEN "answered" THEN CAST(CAST("transferred" AS INT) AS DOUBLE) END AS DOUBLE)
    ) AS "__agg17",
    CAST(COUNT(CASE WHEN "answered" THEN CAST(CAST("transferred" AS INT) AS DOUBLE) END) AS BIGINT) AS "__agg17_n",
    AVG(
      CAST(CASE WHEN "answered" THEN CAST(CAST("sale" AS INT) AS DOUBLE) END AS DOUBLE)
    ) AS "__agg18",
    CAST(COUNT(CASE WHEN "answered" THEN CAST(CAST("sale" AS INT) AS DOUBLE) END) AS BIGINT) AS "__agg18_n",
    CAST(COUNT(CASE WHEN "sale" THEN 1 END) AS BIGINT) AS "__agg19",
    CAST(COUNT(CASE WHEN "sale" THEN 1 END) AS BIGINT) AS "__agg19_n",
    SUM(CASE WHEN "answered" THEN (
      (
        "talk_s" + "hold_s"
      ) + "wrap_s"
    ) END) AS "__agg20",
    CAST(COUNT(CASE WHEN "answered" THEN (
      (
        "talk_s" + "hold_s"
      ) + "wrap_s"
    ) END) AS BIGINT) AS "__agg20_n"
  FROM "__window6"
  GROUP BY
    "team",
    CAST(DATE_TRUNC('week', CAST(TIMEZONE('UTC', "started_at") AS DATE)) AS DATE)
), "__groups" AS (
  SELECT
    "team",
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
    "__agg13",
    "__agg13_n",
    "__agg14",
    "__agg14_n",
    "__agg15",
    "__agg15_n",
    "__agg16",
    "__agg16_n",
    "__agg17",
    "__agg17_n",
    "__agg18",
    "__agg18_n",
    "__agg19",
    "__agg19_n",
    "__agg20",
    "__agg20_n"
  FROM "__groups7"
), "__bounds" AS (
  SELECT
    MIN("__groups"."__grain") AS "__first",
    MAX("__groups"."__grain") AS "__last"
  FROM "__groups"
), "__periods" AS (
  SELECT
    "__start" AS "__grain"
  FROM UNNEST(CAST(GENERATE_SERIES(
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
    INTERVAL '1' WEEK
  ) AS DATE[])) AS "__series"("__start")
), "__keys" AS (
  SELECT DISTINCT
    "team"
  FROM "__groups"
), "__complete" AS (
  SELECT
    "__keys"."team",
    "__periods"."__grain",
    COALESCE("__groups"."__agg0", 0) AS "__agg0",
    COALESCE("__groups"."__agg0_n", 0) AS "__agg0_n",
    "__groups"."__agg1" AS "__agg1",
    COALESCE("__groups"."__agg1_n", 0) AS "__agg1_n",
    "__groups"."__agg2" AS "__agg2",
    COALESCE("__groups"."__agg2_n", 0) AS "__agg2_n",
    "__groups"."__agg3" AS "__agg3",
    COALESCE("__groups"."__agg3_n", 0) AS "__agg3_n",
    "__groups"."__agg4" AS "__agg4",
    COALESCE("__groups"."__agg4_n", 0) AS "__agg4_n",
    "__groups"."__agg5" AS "__agg5",
    COALESCE("__groups"."__agg5_n", 0) AS "__agg5_n",
    "__groups"."__agg6" AS "__agg6",
    COALESCE("__groups"."__agg6_n", 0) AS "__agg6_n",
    "__groups"."__agg7" AS "__agg7",
    COALESCE("__groups"."__agg7_n", 0) AS "__agg7_n",
    "__groups"."__agg8" AS "__agg8",
    COALESCE("__groups"."__agg8_n", 0) AS "__agg8_n",
    COALESCE("__groups"."__agg8_censored", 0) AS "__agg8_censored",
    "__groups"."__agg9" AS "__agg9",
    COALESCE("__groups"."__agg9_n", 0) AS "__agg9_n",
    COALESCE("__groups"."__agg9_censored", 0) AS "__agg9_censored",
    "__groups"."__agg10" AS "__agg10",
    COALESCE("__groups"."__agg10_n", 0) AS "__agg10_n",
    COALESCE("__groups"."__agg10_censored", 0) AS "__agg10_censored",
    "__groups"."__agg11" AS "__agg11",
    COALESCE("__groups"."__agg11_n", 0) AS "__agg11_n",
    COALESCE("__groups"."__agg11_censored", 0) AS "__agg11_censored",
    "__groups"."__agg12" AS "__agg12",
    COALESCE("__groups"."__agg12_n", 0) AS "__agg12_n",
    COALESCE("__groups"."__agg12_censored", 0) AS "__agg12_censored",
    "__groups"."__agg13" AS "__agg13",
    COALESCE("__groups"."__agg13_n", 0) AS "__agg13_n",
    "__groups"."__agg14" AS "__agg14",
    COALESCE("__groups"."__agg14_n", 0) AS "__agg14_n",
    "__groups"."__agg15" AS "__agg15",
    COALESCE("__groups"."__agg15_n", 0) AS "__agg15_n",
    "__groups"."__agg16" AS "__agg16",
    COALESCE("__groups"."__agg16_n", 0) AS "__agg16_n",
    "__groups"."__agg17" AS "__agg17",
    COALESCE("__groups"."__agg17_n", 0) AS "__agg17_n",
    "__groups"."__agg18" AS "__agg18",
    COALESCE("__groups"."__agg18_n", 0) AS "__agg18_n",
    COALESCE("__groups"."__agg19", 0) AS "__agg19",
    COALESCE("__groups"."__agg19_n", 0) AS "__agg19_n",
    "__groups"."__agg20" AS "__agg20",
    COALESCE("__groups"."__agg20_n", 0) AS "__agg20_n"
  FROM "__keys"
  CROSS JOIN "__periods"
  LEFT JOIN "__groups"
    ON "__keys"."team" IS NOT DISTINCT FROM "__groups"."team"
    AND "__periods"."__grain" = "__groups"."__grain"
  UNION ALL
  SELECT
    "team",
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
    "__agg13",
    "__agg13_n",
    "__agg14",
    "__agg14_n",
    "__agg15",
    "__agg15_n",
    "__agg16",
    "__agg16_n",
    "__agg17",
    "__agg17_n",
    "__agg18",
    "__agg18_n",
    "__agg19",
    "__agg19_n",
    "__agg20",
    "__agg20_n"
  FROM "__groups"
  WHERE
    "__grain" IS NULL
), "__numbered" AS (
  SELECT
    *,
    CAST(DATE_DIFF('DAY', CAST('1970-01-05' AS DATE), "__grain") AS BIGINT) AS "__period"
  FROM "__complete"
), "__layer0" AS (
  SELECT
    *,
    "__agg0" AS "__value_contacts",
    CAST("__agg0_n" AS BIGINT) AS "__n_contacts",
    100 * (
      "__agg1" - "__agg2"
    ) AS "__value_nps",
    CAST(LEAST(COALESCE("__agg1_n", "__agg2_n"), COALESCE("__agg2_n", "__agg1_n")) AS BIGINT) AS "__n_nps",
    "__agg3" AS "__value_csat",
    CAST("__agg3_n" AS BIGINT) AS "__n_csat",
    "__agg4" AS "__value_ces",
    CAST("__agg4_n" AS BIGINT) AS "__n_ces",
    "__agg5" AS "__value_ces_agree",
    CAST("__agg5_n" AS BIGINT) AS "__n_ces_agree",
    "__agg6" AS "__value_sentiment",
    CAST("__agg6_n" AS BIGINT) AS "__n_sentiment",
    "__agg7" AS "__value_fcr_reported",
    CAST("__agg7_n" AS BIGINT) AS "__n_fcr_reported",
    "__agg8" AS "__value_fcr",
    CAST("__agg8_n" AS BIGINT) AS "__n_fcr",
    "__agg9" AS "__value_repeat_rate",
    CAST("__agg9_n" AS BIGINT) AS "__n_repeat_rate",
    "__agg10" AS "__value_buy_again_30d",
    CAST("__agg10_n" AS BIGINT) AS "__n_buy_again_30d",
    "__agg11" AS "__value_buy_more_30d",
    CAST("__agg11_n" AS BIGINT) AS "__n_buy_more_30d",
    "__agg12" AS "__value_spread_word_30d",
    CAST("__agg12_n" AS BIGINT) AS "__n_spread_word_30d",
    "__agg13" AS "__value_aht",
    CAST("__agg13_n" AS BIGINT) AS "__n_aht",
    "__agg14" AS "__value_asa",
    CAST("__agg14_n" AS BIGINT) AS "__n_asa",
    "__agg15" AS "__value_service_level",
    CAST("__agg15_n" AS BIGINT) AS "__n_service_level",
    "__agg16" AS "__value_abandon_rate",
    CAST("__agg16_n" AS BIGINT) AS "__n_abandon_rate",
    "__agg17" AS "__value_transfer_rate",
    CAST("__agg17_n" AS BIGINT) AS "__n_transfer_rate",
    "__agg18" AS "__value_sales_conversion",
    CAST("__agg18_n" AS BIGINT) AS "__n_sales_conversion",
    CASE
      WHEN CASE WHEN 3600 <> 0 THEN CAST("__agg20" AS DOUBLE) / CAST(3600 AS DOUBLE) END <> 0
      THEN CAST("__agg19" AS DOUBLE) / CAST(CASE WHEN 3600 <> 0 THEN CAST("__agg20" AS DOUBLE) / CAST(3600 AS DOUBLE) END AS DOUBLE)
    END AS "__value_sales_per_hour",
    CAST(LEAST(COALESCE("__agg19_n", "__agg20_n"), COALESCE("__agg20_n", "__agg19_n")) AS BIGINT) AS "__n_sales_per_hour"
  FROM "__numbered"
), "__metrics0" AS (
  SELECT
    *,
    "__value_contacts" AS "contacts",
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
      WHEN "__n_ces_agree" >= 30 AND "__value_ces_agree" - "__value_ces_agree" = 0
      THEN "__value_ces_agree"
    END AS "ces_agree",
    CASE
      WHEN "__value_sentiment" - "__value_sentiment" = 0
      THEN "__value_sentiment"
    END AS "sentiment",
    CASE
      WHEN "__n_fcr_reported" >= 30 AND "__value_fcr_reported" - "__value_fcr_reported" = 0
      THEN "__value_fcr_reported"
    END AS "fcr_reported",
    CASE WHEN "__value_fcr" - "__value_fcr" = 0 THEN "__value_fcr" END AS "fcr",
    CASE
      WHEN "__value_repeat_rate" - "__value_repeat_rate" = 0
      THEN "__value_repeat_rate"
    END AS "repeat_rate",
    CASE
      WHEN "__value_buy_again_30d" - "__value_buy_again_30d" = 0
      THEN "__value_buy_again_30d"
    END AS "buy_again_30d",
    CASE
      WHEN "__value_buy_more_30d" - "__value_buy_more_30d" = 0
      THEN "__value_buy_more_30d"
    END AS "buy_more_30d",
    CASE
      WHEN "__value_spread_word_30d" - "__value_spread_word_30d" = 0
      THEN "__value_spread_word_30d"
    END AS "spread_word_30d",
    CASE WHEN "__value_aht" - "__value_aht" = 0 THEN "__value_aht" END AS "aht",
    CASE WHEN "__value_asa" - "__value_asa" = 0 THEN "__value_asa" END AS "asa",
    CASE
      WHEN "__value_service_level" - "__value_service_level" = 0
      THEN "__value_service_level"
    END AS "service_level",
    CASE
      WHEN "__value_abandon_rate" - "__value_abandon_rate" = 0
      THEN "__value_abandon_rate"
    END AS "abandon_rate",
    CASE
      WHEN "__value_transfer_rate" - "__value_transfer_rate" = 0
      THEN "__value_transfer_rate"
    END AS "transfer_rate",
    CASE
      WHEN "__value_sales_conversion" - "__value_sales_conversion" = 0
      THEN "__value_sales_conversion"
    END AS "sales_conversion",
    CASE
      WHEN "__value_sales_per_hour" - "__value_sales_per_hour" = 0
      THEN "__value_sales_per_hour"
    END AS "sales_per_hour"
  FROM "__layer0"
), "__layer1" AS (
  SELECT
    *,
    CASE
      WHEN 200 <> 0
      THEN CAST((
        CAST(0.5 AS DOUBLE) * (
          "nps" + 100
        )
      ) AS DOUBLE) / CAST(200 AS DOUBLE)
    END + (
      CAST(0.5 AS DOUBLE) * "buy_again_30d"
    ) AS "__value_loyalty_index",
    CAST(LEAST(COALESCE("__n_nps", "__n_buy_again_30d"), COALESCE("__n_buy_again_30d", "__n_nps")) AS BIGINT) AS "__n_loyalty_index"
  FROM "__metrics0"
), "__metrics1" AS (
  SELECT
    *,
    CASE
      WHEN "__value_loyalty_index" - "__value_loyalty_index" = 0
      THEN "__value_loyalty_index"
    END AS "loyalty_index"
  FROM "__layer1"
)
SELECT
  "team",
  CAST(CAST(YEAR(CAST("__grain" + INTERVAL 3 DAY AS DATE)) AS BIGINT) AS TEXT) || '-W' || CAST(LPAD(
    CAST(CAST(FLOOR(
      DATE_DIFF(
        'DAY',
        DATE_TRUNC('YEAR', CAST("__grain" + INTERVAL 3 DAY AS DATE)),
        CAST("__grain" + INTERVAL 3 DAY AS DATE)
      ) / 7
    ) AS BIGINT) + 1 AS TEXT),
    2,
    '0'
  ) AS TEXT) AS "week",
  "contacts",
  "nps",
  "csat",
  "ces",
  "ces_agree",
  "sentiment",
  "fcr_reported",
  "fcr",
  "repeat_rate",
  "buy_again_30d",
  "buy_more_30d",
  "spread_word_30d",
  "loyalty_index",
  "aht",
  "asa",
  "service_level",
  "abandon_rate",
  "transfer_rate",
  "sales_conversion",
  "sales_per_hour",
  COALESCE("__agg8_censored", 0) > 0
  OR COALESCE("__agg9_censored", 0) > 0
  OR COALESCE("__agg10_censored", 0) > 0
  OR COALESCE("__agg11_censored", 0) > 0
  OR COALESCE("__agg12_censored", 0) > 0 AS "provisional"
FROM "__metrics1"
ORDER BY
  "team",
  "__grain"
