"""A small Spark job, run with the OpenLineage listener, whose column lineage the tests know.

Run as `python -m tests.producers.spark_job JAR DATA_DIR LINEAGE_URL`: it writes two small
inputs (customers as CSV, orders as Parquet), then derives one output from them, and stops
Spark so that the listener has sent every event before the process ends.

What the output's columns are made of, and so what its `columnLineage` must say:
- customer_id: customers.customer_id, copied (DIRECT IDENTITY);
- region:      customers.region, copied (DIRECT IDENTITY);
- income_k:    customers.income / 1000 (DIRECT TRANSFORMATION);
- total_spent: sum of orders.amount per customer (DIRECT AGGREGATION);
and, for every row of the output (INDIRECT): the join on customer_id of both inputs, the filter
on orders.status, the grouping by orders.customer_id.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

APP_NAME = "customer_features"
NAMESPACE = "spark-tests"
CUSTOMERS = [(1, "eu", 41000.0), (2, "us", 52000.0), (3, "eu", 38500.0), (4, "us", 61000.0)]
ORDERS = [(1, 10.0, "paid"), (1, 5.5, "paid"), (2, 7.0, "refunded"), (3, 3.25, "paid"), (4, 12.0, "paid")]


def session(jar: str, lineage_url: str) -> SparkSession:
    return (
        SparkSession.builder.master("local[1]")
        .appName(APP_NAME)
        .config("spark.jars", jar)
        .config("spark.extraListeners", "io.openlineage.spark.agent.OpenLineageSparkListener")
        .config("spark.openlineage.transport.type", "http")
        .config("spark.openlineage.transport.url", lineage_url)
        .config("spark.openlineage.transport.endpoint", "/api/v1/lineage")
        .config("spark.openlineage.transport.timeoutInMillis", "60000")
        .config("spark.openlineage.namespace", NAMESPACE)
        # The joins, filters and groupings that touch every row, as the facet's dataset-wide list.
        .config("spark.openlineage.columnLineage.datasetLineageEnabled", "true")
        # One core, no UI, one shuffle partition: the machine is small and the data tiny.
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.driver.memory", "512m")
        .getOrCreate()
    )


def run(spark: SparkSession, data: Path) -> None:
    spark.createDataFrame(CUSTOMERS, ["customer_id", "region", "income"]).write.mode("overwrite").csv(
        str(data / "customers"), header=True
    )
    spark.createDataFrame(ORDERS, ["customer_id", "amount", "status"]).write.mode("overwrite").parquet(
        str(data / "orders")
    )
    customers = spark.read.csv(str(data / "customers"), header=True, inferSchema=True)
    orders = spark.read.parquet(str(data / "orders"))
    spent = (
        orders.where(F.col("status") == "paid")
        .groupBy("customer_id")
        .agg(F.sum("amount").alias("total_spent"))
    )
    features = customers.join(spent, "customer_id").select(
        F.col("customer_id"),
        F.col("region"),
        (F.col("income") / 1000).alias("income_k"),
        F.col("total_spent"),
    )
    features.write.mode("overwrite").parquet(str(data / "features"))


def main(argv: list[str]) -> int:
    jar, data, lineage_url = argv
    spark = session(jar, lineage_url)
    try:
        run(spark, Path(data))
    finally:
        # stop() drains the listener bus: every event has been sent when it returns.
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
