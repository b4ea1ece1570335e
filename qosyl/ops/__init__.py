"""Operations scripts: run Qosyl as a deployment would (`python -m qosyl.ops.cluster`)."""
