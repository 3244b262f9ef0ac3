from nbswarm import Agent

agent = Agent(
    agent_name="Configured-Streamer",
    model_name="gpt-4o-mini",
    
    # Streaming options
    streaming_on=True,     # Enable basic streaming
    stream=False,          # Disable detailed streaming (default)
    print_on=True,         # Show output (default)
    verbose=True,          # Show detailed logs
    
    # Other options
    max_loops=1,
    interactive=True,
)

def dynamic_callback(token: str):
    print(token, end="", flush=True)

# Pass callback at runtime
response = agent.run(
    task="Analyze data",
    streaming_callback=dynamic_callback,  # Override default behavior
)
