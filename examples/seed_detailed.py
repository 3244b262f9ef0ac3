from nbswarm import Agent
import json

def detailed_callback(token_info: dict):
    """
    Receive detailed token information
    
    Args:
        token_info (dict): Contains token, usage, finish_reason, etc.
    """
    # Access detailed information
    if 'content' in token_info:
        print(token_info['content'], end="", flush=True)
    
    # Access metadata
    if 'usage' in token_info:
        print(f"\n\nTokens used: {token_info['usage']}")
    
    if 'finish_reason' in token_info:
        print(f"Finished: {token_info['finish_reason']}")

agent = Agent(
    agent_name="Detailed-Streaming-Agent",
    model_name="gpt-4o-mini",
    max_loops=1,
    stream=True,  # Enable detailed streaming
)

response = agent.run(
    task="Analyze the current state of AI technology",
    streaming_callback=detailed_callback,
)
