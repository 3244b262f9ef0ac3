from nbswarm import Agent

# Create agent with streaming enabled
agent = Agent(
    agent_name="Streaming-Agent",
    model_name="gpt-4o-mini",
    max_loops=1,
    streaming_on=True,  # Enable streaming
)

# Run task - output streams in real-time
response = agent.run(
    "Write a detailed explanation of how neural networks work"
)

print(response)  # Complete response after streaming
