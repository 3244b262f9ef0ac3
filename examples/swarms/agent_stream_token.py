# Copied from swarms (github.com/kyegomez/swarms), examples/single_agent/capabilities/streaming/agent_stream_token.py at commit 7e3330267808cf8d6eb8ee1aa4d8ff2b054273d4,
# with only the import changed (swarms.structs.agent import Agent -> nbswarm import Agent).
# Offline: NBSWARM_SIMULATE=1 routes every model name to the built-in sim.
from nbswarm import Agent

agent = Agent(
    model_name="gpt-5.4",
    max_loops=1,
    stream=True,
)

agent.run("Tell me a short story about a robot learning to paint.")
